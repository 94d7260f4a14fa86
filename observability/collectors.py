"""Gauges computed when Prometheus scrapes: the state of the database, the broker and the cache,
the same whichever process (or machine) answers. Process-counted metrics (the webhook's) come from
the multiprocess files instead (observability.exposition)."""

import logging
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from actions.choices import FINISHED_RUN_STATUSES, RunStatus
from incidents.choices import OPEN_STATUSES
from observability import selectors
from observability.queues import queue_lengths
from observability.sweeps import sweep_interval_seconds

logger = logging.getLogger(__name__)
ACTIVE_RUN_STATUSES = [status for status in RunStatus.values if status not in FINISHED_RUN_STATUSES]


class StateCollector(Collector):
    def collect(self) -> Iterator:
        yield from self._incidents()
        yield from self._alerts()
        yield from self._runs()
        yield from self._deliveries()
        # The broker and the cache may be down while the database is not: their metrics are left
        # out (logged) and the rest of the scrape stands; mitigate_scrape_part_up says which failed.
        up = GaugeMetricFamily(
            "mitigate_scrape_part_up",
            "1 when this part of the scrape could be read, 0 when it failed (see the log).",
            labels=["part"],
        )
        for part, reader in (("celery_queues", self._queues), ("sweeps", self._sweeps)):
            try:
                families = list(reader())
            except Exception:
                logger.warning("/metrics: could not read %s", part, exc_info=True)
                up.add_metric([part], 0)
            else:
                up.add_metric([part], 1)
                yield from families
        yield up

    def _incidents(self) -> Iterator:
        rows = selectors.open_incidents_by_priority_and_status()
        open_ = GaugeMetricFamily(
            "mitigate_incidents_open",
            "Open incidents (drills left out) by priority and status.",
            labels=["priority", "status"],
        )
        breached = GaugeMetricFamily(
            "mitigate_incidents_sla_breached",
            "Open incidents whose response or resolution SLA is breached, by priority and target.",
            labels=["priority", "target"],
        )
        counts: dict[tuple[str, str], int] = {}
        breaches: dict[tuple[str, str], int] = {}
        for row in rows:
            priority = row["priority__code"]
            counts[(priority, row["status"])] = row["count"]
            for target in ("response", "resolution"):
                breaches[(priority, target)] = breaches.get((priority, target), 0) + row[f"{target}_breached"]
        # Each priority seen gets every open status, at 0 when none, so a rule sees 0, not "no data".
        for priority in sorted({priority for priority, _ in counts}):
            for status in OPEN_STATUSES:
                open_.add_metric([priority, status], counts.get((priority, status), 0))
            for target in ("response", "resolution"):
                breached.add_metric([priority, target], breaches.get((priority, target), 0))
        yield open_
        yield breached

    def _alerts(self) -> Iterator:
        backlog = selectors.alert_backlog()
        yield GaugeMetricFamily(
            "mitigate_alerts_unprocessed",
            "Alerts stored and waiting for processing (those given up on are not counted).",
            value=backlog.unprocessed,
        )
        lag = 0.0
        if backlog.oldest_received_at is not None:
            lag = max(0.0, (timezone.now() - backlog.oldest_received_at).total_seconds())
        yield GaugeMetricFamily(
            "mitigate_alerts_processing_failed",
            "Alerts whose processing failed ALERT_PROCESSING_MAX_ATTEMPTS times and was given up.",
            value=selectors.alerts_processing_failed(),
        )
        yield GaugeMetricFamily(
            "mitigate_alert_processing_lag_seconds",
            "Age of the oldest alert waiting for processing (0 when none waits).",
            value=lag,
        )

    def _runs(self) -> Iterator:
        counts = selectors.action_run_counts()
        finished = CounterMetricFamily(
            "mitigate_action_runs_finished",
            "Action runs that reached an outcome, by outcome (the runs in the database).",
            labels=["outcome"],
        )
        for status in FINISHED_RUN_STATUSES:
            finished.add_metric([status], counts.by_status.get(status, 0))
        active = GaugeMetricFamily(
            "mitigate_action_runs_active", "Action runs not finished yet, by status.", labels=["status"]
        )
        for status in ACTIVE_RUN_STATUSES:
            active.add_metric([status], counts.by_status.get(status, 0))
        yield finished
        yield active
        yield GaugeMetricFamily(
            "mitigate_approvals_pending",
            "Action runs awaiting an approver's decision.",
            value=counts.by_status.get(RunStatus.AWAITING_APPROVAL, 0),
        )
        durations = HistogramMetricFamily(
            "mitigate_action_run_duration_seconds",
            "How long runs that ran took (start to finish), by outcome.",
            labels=["outcome"],
        )
        for status in selectors.RAN_STATUSES:
            histogram = counts.durations.get(status)
            if histogram is None:
                buckets = [(str(float(bound)), 0) for bound in selectors.RUN_DURATION_BUCKETS]
                count, total = 0, 0.0
            else:
                buckets = [(str(float(bound)), value) for bound, value in histogram.buckets]
                count, total = histogram.count, histogram.total_seconds
            durations.add_metric([status], [*buckets, ("+Inf", count)], sum_value=total)
        yield durations

    def _deliveries(self) -> Iterator:
        family = GaugeMetricFamily(
            "mitigate_notification_deliveries",
            "Notification deliveries in the ledger, by state and channel kind (email/sms for people).",
            labels=["state", "channel_kind"],
        )
        for status, kind, count in selectors.deliveries_by_status_and_kind():
            family.add_metric([status, kind], count)
        yield family

    def _queues(self) -> Iterator:
        lengths = queue_lengths()
        if lengths is None:
            return
        family = GaugeMetricFamily(
            "mitigate_celery_queue_length", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        for name, length in lengths.items():
            family.add_metric([name], length)
        yield family

    def _sweeps(self) -> Iterator:
        names = sorted(settings.CELERY_BEAT_SCHEDULE)
        last = selectors.sweep_last_successes(names)
        success = GaugeMetricFamily(
            "mitigate_sweep_last_success_timestamp_seconds",
            "When each beat sweep last finished without error (Unix time; absent: not since the "
            "cache was emptied).",
            labels=["sweep"],
        )
        interval = GaugeMetricFamily(
            "mitigate_sweep_interval_seconds",
            "How often beat runs each sweep (those on a fixed interval).",
            labels=["sweep"],
        )
        for name in names:
            if name in last:
                success.add_metric([name], last[name])
            seconds = sweep_interval_seconds(name)
            if seconds is not None:
                interval.add_metric([name], seconds)
        yield success
        yield interval
