"""The summary of a range: counts, clocks, auto-resolution, repeats, SLA compliance and cost."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from analytics.filters import UNCLASSIFIED, Filters, incidents_in
from analytics.rollups import read as rollups
from analytics.rollups.facts import DAY_SUMS
from analytics.selectors.clocks import CLOCKS, MEDIAN, P90, DurationStats, clock_stats


@dataclass(frozen=True)
class CostStats:
    """The cost impact of the incidents whose cost is stored (analytics.models.IncidentCost):
    the total, the mean per incident and the person-hours."""

    incidents: int = 0
    total: Decimal = Decimal("0.00")
    hours: float = 0.0

    @property
    def mean(self) -> Decimal | None:
        return (self.total / self.incidents).quantize(Decimal("0.01")) if self.incidents else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "incidents": self.incidents,
            "total": float(self.total),
            "mean": float(self.mean) if self.mean is not None else None,
            "hours": round(self.hours, 2),
            "currency": settings.COST_CURRENCY,
        }


# The cost aggregates, one definition for the summary, the groups and the series.
COST_AGGREGATES = {
    "cost_incidents": Count("cost"),
    "cost_total": Sum("cost__amount"),
    "cost_seconds": Sum(F("cost__responder_seconds") + F("cost__meeting_seconds")),
}


def cost_stats(row: dict[str, Any]) -> CostStats:
    """CostStats from a row carrying COST_AGGREGATES."""
    return CostStats(
        incidents=row["cost_incidents"] or 0,
        total=Decimal(row["cost_total"] or 0).quantize(Decimal("0.01")),
        hours=(row["cost_seconds"] or 0) / 3600,
    )


@dataclass(frozen=True)
class Summary:
    incidents: int
    per_day: float
    by_priority: dict[str, int]
    mttd: DurationStats
    mtta: DurationStats
    mttr: DurationStats
    resolved: int
    auto_resolved: int
    auto_resolution_rate: float | None
    repeats: int
    reopened: int
    repeat_rate: float | None
    sla_response_rate: float | None
    sla_resolution_rate: float | None
    cost: CostStats = field(default_factory=CostStats)

    def as_dict(self) -> dict[str, Any]:
        return {
            "incidents": self.incidents,
            "per_day": round(self.per_day, 3),
            "by_priority": self.by_priority,
            "mttd_seconds": self.mttd.as_dict(),
            "mtta_seconds": self.mtta.as_dict(),
            "mttr_seconds": self.mttr.as_dict(),
            "resolved": self.resolved,
            "auto_resolved": self.auto_resolved,
            "auto_resolution_rate": self.auto_resolution_rate,
            "repeats": self.repeats,
            "reopened": self.reopened,
            "repeat_rate": self.repeat_rate,
            "sla_response_rate": self.sla_response_rate,
            "sla_resolution_rate": self.sla_resolution_rate,
            "cost": self.cost.as_dict(),
        }


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# The repeat rate, one definition for the summary, the recommendations and the reports: the share
# of incidents that repeat an earlier one (is_repeat, marked by incidents.services.repeats) or
# were reopened, among the incidents the filters select.
REPEATED = Q(is_repeat=True) | Q(reopen_count__gt=0)


def repeat_rate(repeated: int, incidents: int) -> float | None:
    return ratio(repeated, incidents)


def root_cause_shares(counts: dict[str, int]) -> dict[str, float | None]:
    """Each root cause's share, one definition for the recommendations and the reports: of the
    classified incidents (`counts` by category, UNCLASSIFIED included), as an unclassified incident
    says nothing about causes; so UNCLASSIFIED itself has none."""
    classified = sum(n for cause, n in counts.items() if cause != UNCLASSIFIED)
    return {cause: None if cause == UNCLASSIFIED else ratio(n, classified) for cause, n in counts.items()}


def summary(filters: Filters, *, now: datetime | None = None) -> Summary:
    """The headline numbers for the filtered incidents: counts, SLA, priorities, and
    `queries_per_clock()` per clock (6 queries on PostgreSQL, 9 on SQLite)."""
    now = now or timezone.now()
    cut = rollups.split(filters)
    if cut is not None:
        return _summary_from_rollups(filters, cut, now)
    qs = incidents_in(filters)
    counts = qs.aggregate(
        incidents=Count("pk"),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        auto_resolved=Count("pk", filter=Q(resolved_at__isnull=False, auto_resolved=True)),
        # Marked when the incident's services, root cause or alerts change (incidents.services.repeats).
        repeats=Count("pk", filter=Q(is_repeat=True)),
        reopened=Count("pk", filter=Q(reopen_count__gt=0)),
        repeat_or_reopened=Count("pk", filter=REPEATED),
        response_due=Count(
            "pk",
            filter=Q(response_due_at__isnull=False)
            & (Q(acknowledged_at__isnull=False) | Q(resolved_at__isnull=False) | Q(response_due_at__lt=now)),
        ),
        **COST_AGGREGATES,
    )
    response = qs.annotate(first_response=Coalesce("acknowledged_at", "resolved_at")).aggregate(
        met=Count("pk", filter=Q(response_due_at__isnull=False, first_response__lte=F("response_due_at"))),
        resolution_due=Count(
            "pk",
            filter=Q(resolution_due_at__isnull=False)
            & (Q(resolved_at__isnull=False) | Q(resolution_due_at__lt=now)),
        ),
        resolution_met=Count(
            "pk", filter=Q(resolution_due_at__isnull=False, resolved_at__lte=F("resolution_due_at"))
        ),
    )
    by_priority = dict(qs.values_list("priority__code").annotate(n=Count("pk")).order_by("priority__code"))
    clocks = {name: clock_stats(qs, name).get(None, DurationStats()) for name in CLOCKS}
    return Summary(
        incidents=counts["incidents"],
        per_day=counts["incidents"] / filters.days,
        by_priority=by_priority,
        mttd=clocks["mttd"],
        mtta=clocks["mtta"],
        mttr=clocks["mttr"],
        resolved=counts["resolved"],
        auto_resolved=counts["auto_resolved"],
        auto_resolution_rate=ratio(counts["auto_resolved"], counts["resolved"]),
        repeats=counts["repeats"],
        reopened=counts["reopened"],
        repeat_rate=repeat_rate(counts["repeat_or_reopened"], counts["incidents"]),
        sla_response_rate=ratio(response["met"], counts["response_due"]),
        sla_resolution_rate=ratio(response["resolution_met"], response["resolution_due"]),
        cost=cost_stats(counts),
    )


def _open_sla(filters: Filters, now: datetime) -> dict[str, int]:
    """The unresolved incidents whose response or resolution fell due before `now`: what the SLA
    rates count that no rollup can hold (it changes with the time), from the few open rows."""
    return (
        incidents_in(filters)
        .filter(resolved_at__isnull=True)
        .aggregate(
            response=Count(
                "pk",
                filter=Q(
                    response_due_at__isnull=False, acknowledged_at__isnull=True, response_due_at__lt=now
                ),
            ),
            resolution=Count("pk", filter=Q(resolution_due_at__isnull=False, resolution_due_at__lt=now)),
        )
    )


def _summary_from_rollups(filters: Filters, cut: "rollups.Split", now: datetime) -> Summary:
    """`summary` from the rollups (analytics.rollups.read): the same numbers, whole days from the
    per-day sums and the range's edges from their incidents. Exact percentiles come from the clock
    histograms when the filters do not narrow; narrowed, from the member rows on PostgreSQL (one
    query) and from the incidents directly on SQLite."""
    by_priority = rollups.totals(filters, cut, group_by="priority")
    t: dict[str, Any] = {}
    for sums in by_priority.values():
        for column, value in sums.items():
            t[column] = t.get(column, 0) + value
    if not t:
        t = {column: 0 for column in DAY_SUMS}
    open_sla = _open_sla(filters, now)
    if rollups.narrowed(filters) and connection.vendor != "postgresql":
        qs = incidents_in(filters)
        clocks = {name: clock_stats(qs, name).get(None, DurationStats()) for name in CLOCKS}
    else:
        if rollups.narrowed(filters):  # the histograms have no segments
            ranks = rollups.member_percentiles(filters, (MEDIAN, P90))
        else:
            ranks = rollups.percentiles(filters, cut, (MEDIAN, P90))
        clocks = {name: rollups.clock_stats_from_sums(t, name, ranks[name]) for name in CLOCKS}
    return Summary(
        incidents=t["incidents"],
        per_day=t["incidents"] / filters.days,
        by_priority={code: sums["incidents"] for (_, code), sums in sorted(by_priority.items())},
        mttd=clocks["mttd"],
        mtta=clocks["mtta"],
        mttr=clocks["mttr"],
        resolved=t["resolved"],
        auto_resolved=t["auto_resolved"],
        auto_resolution_rate=ratio(t["auto_resolved"], t["resolved"]),
        repeats=t["repeats"],
        reopened=t["reopened"],
        repeat_rate=repeat_rate(t["repeated"], t["incidents"]),
        sla_response_rate=ratio(t["response_met"], t["response_settled"] + open_sla["response"]),
        sla_resolution_rate=ratio(t["resolution_met"], t["resolution_settled"] + open_sla["resolution"]),
        cost=cost_stats(t),
    )


@dataclass(frozen=True)
class SummaryChange:
    """A summary with the previous period's, for the cards' "change against the previous period"."""

    current: Summary
    previous: Summary


def summary_with_change(filters: Filters, *, now: datetime | None = None) -> SummaryChange:
    return SummaryChange(current=summary(filters, now=now), previous=summary(filters.previous(), now=now))


def cost_summary(filters: Filters) -> CostStats:
    """The cost impact of the filtered incidents alone (1 query, 2-4 from the rollups), for reports."""
    cut = rollups.split(filters)
    if cut is not None:
        sums = rollups.totals(filters, cut).get((None, None), {})
        return cost_stats({c: sums.get(c, 0) for c in ("cost_incidents", "cost_total", "cost_seconds")})
    return cost_stats(incidents_in(filters).aggregate(**COST_AGGREGATES))
