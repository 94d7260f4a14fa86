"""What /metrics reads at scrape time. Each reader is one grouped query (five in all, pinned by
tests/observability/test_metrics.py), so a scrape costs the same however busy Mitigate is; the
notification ledger and the runs are counted whole, which on PostgreSQL is a scan of each table."""

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from actions.choices import RunStatus
from actions.models import ActionRun
from alerts.models import Alert
from incidents.choices import OPEN_STATUSES
from incidents.models import Incident
from notifications.models import Delivery
from observability.sweeps import cache_key

# Upper bounds of the run duration histogram, in seconds.
RUN_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
NOT_RAN = -1
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
    """Runs per status, and for those that ran, their durations bucketed in the same query: each
    row is given the index of its first bucket (a CASE evaluated once per row, cheaper than a
    filtered count per bucket), and the cumulative counts are added up here."""
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    bucket = Case(
        When(Q(started_at__isnull=True) | Q(finished_at__isnull=True), then=Value(NOT_RAN)),
        *[
            When(duration__lte=timedelta(seconds=bound), then=Value(index))
            for index, bound in enumerate(RUN_DURATION_BUCKETS)
        ],
        default=Value(len(RUN_DURATION_BUCKETS)),
        output_field=IntegerField(),
    )
    rows = (
        ActionRun.objects.alias(duration=duration)
        .annotate(bucket=bucket)
        .order_by()
        .values("status", "bucket")
        .annotate(count=Count("id"), seconds=Sum("duration"))
    )
    counts = RunCounts()
    per_bucket: dict[str, list[int]] = {}
    seconds: dict[str, float] = {}
    for row in rows:
        status = row["status"]
        counts.by_status[status] = counts.by_status.get(status, 0) + row["count"]
        if status in RAN_STATUSES and row["bucket"] != NOT_RAN:
            per_bucket.setdefault(status, [0] * (len(RUN_DURATION_BUCKETS) + 1))[row["bucket"]] += row[
                "count"
            ]
            seconds[status] = seconds.get(status, 0.0) + (
                row["seconds"].total_seconds() if row["seconds"] else 0.0
            )
    for status, in_bucket in per_bucket.items():
        cumulative = list(itertools.accumulate(in_bucket))
        counts.durations[status] = RunDurations(
            buckets=list(zip(RUN_DURATION_BUCKETS, cumulative, strict=False)),
            count=cumulative[-1],
            total_seconds=seconds[status],
        )
    return counts


def deliveries_by_status_and_kind() -> list[tuple[str, str, int]]:
    """(status, channel kind, count) over the whole ledger. Messages to people (no channel) count
    under their contact kind (email, sms)."""
    rows = (
        Delivery.objects.order_by()
        .values("status", kind=Coalesce("channel__kind", "contact_kind"))
        .annotate(count=Count("id"))
    )
    return sorted((row["status"], row["kind"] or "other", row["count"]) for row in rows)


def sweep_last_successes(names: list[str]) -> dict[str, float]:
    """Beat entry name -> Unix time of its last success, for those recorded (one cache round trip)."""
    found = cache.get_many([cache_key(name) for name in names])
    return {name: found[cache_key(name)] for name in names if cache_key(name) in found}
