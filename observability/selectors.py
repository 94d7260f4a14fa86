"""What /metrics reads at scrape time. Each reader is one grouped query (five in all, pinned by
tests/observability/test_metrics.py), so a scrape costs the same however busy Mitigate is; the
notification ledger and the runs are counted whole, which on PostgreSQL is a scan of each table."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum

from actions.choices import RunStatus
from actions.models import ActionRun
from alerts.models import Alert
from incidents.choices import OPEN_STATUSES
from incidents.models import Incident
from notifications.models import Delivery
from observability.sweeps import cache_key

# Upper bounds of the run duration histogram, in seconds.
RUN_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
# Runs that ran (so have a duration): rejected and expired ones never started.
RAN_STATUSES = (
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.CANCELLED,
    RunStatus.ABANDONED,
)


@dataclass
class AlertBacklog:
    unprocessed: int
    oldest_received_at: datetime | None


@dataclass
class RunDurations:
    """One outcome's histogram: cumulative counts per bucket bound, the count and the sum."""

    buckets: list[tuple[float, int]]
    count: int
    total_seconds: float


@dataclass
class RunCounts:
    by_status: dict[str, int] = field(default_factory=dict)
    durations: dict[str, RunDurations] = field(default_factory=dict)


def open_incidents_by_priority_and_status() -> list[dict]:
    """Open incidents (drills left out) per priority code and status, with how many of them have
    a recorded response and resolution SLA breach (incidents.services.sla marks *_breached_at)."""
    return list(
        Incident.objects.filter(status__in=OPEN_STATUSES, is_drill=False)
        .order_by()
        .values("priority__code", "status")
        .annotate(
            count=Count("id"),
            response_breached=Count("id", filter=Q(response_breached_at__isnull=False)),
            resolution_breached=Count("id", filter=Q(resolution_breached_at__isnull=False)),
        )
    )


def alert_backlog() -> AlertBacklog:
    """Alerts waiting for processing (not those given up on): the partial index alerts_alert_to_process."""
    row = Alert.objects.filter(processed=False, processing_failed_at__isnull=True).aggregate(
        unprocessed=Count("id"), oldest=Min("last_received_at")
    )
    return AlertBacklog(unprocessed=row["unprocessed"], oldest_received_at=row["oldest"])


def alerts_processing_failed() -> int:
    """Alerts given up on after ALERT_PROCESSING_MAX_ATTEMPTS: the partial index alerts_alert_failed."""
    return Alert.objects.filter(processing_failed_at__isnull=False, processed=False).count()


def action_run_counts() -> RunCounts:
    """Runs per status, and for those that ran, their durations bucketed in the same query."""
    ran = Q(status__in=RAN_STATUSES, started_at__isnull=False, finished_at__isnull=False)
    bucket_counts = {
        f"le_{index}": Count("id", filter=ran & Q(duration__lte=timedelta(seconds=bound)))
        for index, bound in enumerate(RUN_DURATION_BUCKETS)
    }
    rows = (
        ActionRun.objects.alias(
            duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        )
        .order_by()
        .values("status")
        .annotate(
            count=Count("id"),
            ran=Count("id", filter=ran),
            seconds=Sum("duration", filter=ran),
            **bucket_counts,
        )
    )
    counts = RunCounts()
    for row in rows:
        counts.by_status[row["status"]] = row["count"]
        if row["status"] in RAN_STATUSES:
            counts.durations[row["status"]] = RunDurations(
                buckets=[(bound, row[f"le_{index}"]) for index, bound in enumerate(RUN_DURATION_BUCKETS)],
                count=row["ran"],
                total_seconds=row["seconds"].total_seconds() if row["seconds"] else 0.0,
            )
    return counts


def deliveries_by_status_and_kind() -> list[tuple[str, str, int]]:
    """(status, channel kind, count) over the whole ledger. Messages to people (no channel) count
    under their contact kind (email, sms)."""
    rows = (
        Delivery.objects.order_by()
        .values("status", "channel__kind", "contact_kind")
        .annotate(count=Count("id"))
    )
    totals: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["status"], row["channel__kind"] or row["contact_kind"] or "other")
        totals[key] = totals.get(key, 0) + row["count"]
    return [(status, kind, count) for (status, kind), count in sorted(totals.items())]


def sweep_last_successes(names: list[str]) -> dict[str, float]:
    """Beat entry name -> Unix time of its last success, for those recorded (one cache round trip)."""
    found = cache.get_many([cache_key(name) for name in names])
    return {name: found[cache_key(name)] for name in names if cache_key(name) in found}
