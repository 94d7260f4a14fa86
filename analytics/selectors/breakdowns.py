"""The numbers broken down: series over time, groups, the monthly trend and peak times."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Avg, Case, Count, F, Q, Sum, Value, When
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    TruncDay,
    TruncMonth,
    TruncWeek,
)
from django.utils import timezone

from analytics.filters import BUCKETS, GROUP_BYS, UNCLASSIFIED, Filters, incidents_in
from analytics.models import IncidentCostGroup
from analytics.rollups import read as rollups
from analytics.selectors.clocks import CLOCKS, MEDIAN, P90, DurationStats, clock_stats
from analytics.selectors.summary import COST_AGGREGATES, CostStats, cost_stats, ratio

GROUP_FIELDS = {
    "priority": F("priority__code"),
    "service_type": F("services__type"),
    "root_cause": Coalesce(
        Case(When(root_cause_category="", then=Value(UNCLASSIFIED)), default=F("root_cause_category")),
        Value(UNCLASSIFIED),
    ),
    "team": F("services__owner_team"),
    "month": TruncMonth("detected_at"),
}
# Grouped by these, an incident joins once per service, and two services of one team would sum its
# cost twice: the cost then comes from a second query over analytics.IncidentCostGroup (each
# incident once per team or type); the main query keeps only the incidents without services.
SERVICE_GROUPS = ("service_type", "team")
TRUNCS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _group_expression(group_by: str | None):
    if group_by is None:
        return None
    if group_by not in GROUP_FIELDS:
        raise ValueError(f"Unknown group-by {group_by!r}; expected one of {', '.join(GROUP_BYS)}.")
    return GROUP_FIELDS[group_by]


def _cost_aggregates(group_by: str | None) -> dict[str, Any]:
    if group_by not in SERVICE_GROUPS:
        return COST_AGGREGATES
    alone = Q(services__isnull=True)
    return {
        "cost_incidents": Count("cost", filter=alone),
        "cost_total": Sum("cost__amount", filter=alone),
        "cost_seconds": Sum(F("cost__responder_seconds") + F("cost__meeting_seconds"), filter=alone),
    }


def _service_group_costs(filters: Filters, group_by: str | None, trunc=None) -> dict[tuple, dict]:
    """Cost per team or service type (and period), each incident once per group, in one query
    over the stored groups of the incidents' costs. Empty for the other group-bys, whose main query
    sums the cost itself."""
    if group_by not in SERVICE_GROUPS:
        return {}
    keys = {"group": F("key")}
    if trunc is not None:
        keys["period"] = trunc("cost__incident__detected_at")
    rows = (
        IncidentCostGroup.objects.filter(kind=group_by, cost__in=incidents_in(filters).values("pk"))
        .annotate(**keys)
        .values(*keys)
        .annotate(
            cost_incidents=Count("pk"),
            cost_total=Sum("cost__amount"),
            cost_seconds=Sum(F("cost__responder_seconds") + F("cost__meeting_seconds")),
        )
        .order_by()
    )
    return {(row["group"], row.get("period")): row for row in rows}


def _plain(value: Any) -> Any:
    """Group keys as they go out: dates for truncated times, empty team/type as "none"."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if value in (None, ""):
        return "none"
    return value


@dataclass(frozen=True)
class SeriesPoint:
    period: date
    group: str | None
    incidents: int
    mttr_mean: timedelta | None
    cost: CostStats = field(default_factory=CostStats)


def incident_series(
    filters: Filters, *, bucket: str = "day", group_by: str | None = None
) -> list[SeriesPoint]:
    """Incidents, mean MTTR and cost per day, week or month, optionally split by a group, in one
    query (two by team or service type: their cost); periods without incidents are absent (see
    `periods`). Grouping by service type or team counts an incident once under each of its
    services' types or teams."""
    if bucket not in BUCKETS:
        raise ValueError(f"Unknown bucket {bucket!r}; expected one of {', '.join(BUCKETS)}.")
    group = _group_expression(group_by)
    cut = rollups.split(filters)
    if cut is not None:
        return _series_from_rollups(filters, cut, bucket, group_by)
    qs = incidents_in(filters).annotate(period=TRUNCS[bucket]("detected_at"))
    extra = _service_group_costs(filters, group_by, TRUNCS[bucket])
    fields = ["period"]
    if group is not None:
        qs = qs.annotate(group=group)
        fields.append("group")
    rows = (
        qs.values(*fields)
        .annotate(
            incidents=Count("pk", distinct=True),
            mttr_mean=Avg(CLOCKS["mttr"][0], filter=Q(resolved_at__isnull=False)),
            **_cost_aggregates(group_by),
        )
        .order_by(*fields)
    )
    return [
        SeriesPoint(
            period=_plain(row["period"]),
            group=_plain(row["group"]) if group is not None else None,
            incidents=row["incidents"],
            mttr_mean=row["mttr_mean"],
            cost=cost_stats(extra.get((row.get("group"), row["period"])) or row),
        )
        for row in rows
    ]


def _series_from_rollups(
    filters: Filters, cut: "rollups.Split", bucket: str, group_by: str | None
) -> list[SeriesPoint]:
    """`incident_series` from the rollups, in the database's order of (period, group): NULL (an
    incident without services) after the groups on PostgreSQL, before them on SQLite. By service
    type or team the cost comes from the cost groups' rollup (analytics.CostGroupDayRollup)."""
    rows = rollups.totals(filters, cut, bucket=bucket, group_by=group_by)
    extra = (
        rollups.group_costs(filters, cut, bucket=bucket, group_by=group_by)
        if group_by in SERVICE_GROUPS
        else {}
    )
    nulls_last = connection.vendor == "postgresql"

    def order(key: tuple) -> tuple:
        period, group = key
        return (period, (group is None) == nulls_last, group if group is not None else "")

    return [
        SeriesPoint(
            period=period,
            group=_plain(group) if group_by is not None else None,
            incidents=sums["incidents"],
            mttr_mean=rollups.interval_mean(sums["mttr_n"], sums["mttr_days"], sums["mttr_us"]),
            cost=cost_stats(extra.get((group, period)) or sums),
        )
        for (period, group), sums in sorted(rows.items(), key=lambda item: order(item[0]))
    ]


def periods(filters: Filters, bucket: str) -> list[date]:
    """Every day, week (Monday) or month start the range covers, for filling series gaps."""
    start = timezone.localtime(filters.start).date()
    end = timezone.localtime(filters.end - timedelta(microseconds=1)).date()
    out = []
    if bucket == "day":
        current = start
        while current <= end:
            out.append(current)
            current += timedelta(days=1)
    elif bucket == "week":
        current = start - timedelta(days=start.weekday())
        while current <= end:
            out.append(current)
            current += timedelta(days=7)
    else:
        current = start.replace(day=1)
        while current <= end:
            out.append(current)
            current = (current + timedelta(days=32)).replace(day=1)
    return out


@dataclass(frozen=True)
class GroupRow:
    group: Any
    incidents: int
    mttr: DurationStats
    mtta: DurationStats
    auto_resolution_rate: float | None
    cost: CostStats = field(default_factory=CostStats)


def grouped_metrics(filters: Filters, group_by: str) -> list[GroupRow]:
    """Incidents, MTTR and MTTA (mean, median, p90), auto-resolution and cost per group (1 query, 2
    by team or service type, plus `queries_per_clock()` per clock; by team or service type on
    PostgreSQL with rollups built, 1 + _grouped_from_rollups' instead).
    Grouped by service type or team, an incident counts once under each of its services."""
    # By service type or team the direct query joins every incident to its services; the rollups
    # answer instead on PostgreSQL (the others group the incident rows alone, within the goal).
    if group_by in SERVICE_GROUPS and connection.vendor == "postgresql":
        cut = rollups.split(filters)
        if cut is not None:
            return _grouped_from_rollups(filters, cut, group_by)
    group = _group_expression(group_by)
    qs = incidents_in(filters)
    counts = {
        row["group"]: row
        for row in qs.annotate(group=group)
        .values("group")
        .annotate(
            incidents=Count("pk", distinct=True),
            resolved=Count("pk", distinct=True, filter=Q(resolved_at__isnull=False)),
            auto=Count("pk", distinct=True, filter=Q(resolved_at__isnull=False, auto_resolved=True)),
            **_cost_aggregates(group_by),
        )
    }
    mttr = clock_stats(qs, "mttr", group)
    mtta = clock_stats(qs, "mtta", group)
    extra = _service_group_costs(filters, group_by)
    rows = [
        GroupRow(
            group=_plain(key),
            incidents=row["incidents"],
            mttr=mttr.get(key, DurationStats()),
            mtta=mtta.get(key, DurationStats()),
            auto_resolution_rate=ratio(row["auto"], row["resolved"]),
            cost=cost_stats(extra.get((key, None)) or row),
        )
        for key, row in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.incidents, str(r.group)))


def _grouped_from_rollups(filters: Filters, cut: "rollups.Split", group_by: str) -> list[GroupRow]:
    """`grouped_metrics` by service type or team from the rollups (5 queries, 7 with edges): counts,
    means and cost as the series by team or type take them, the percentiles from the member rows
    (rollups.group_percentiles). The direct query joins every incident of the range to its services,
    which at a month of a million-incident year took 800 ms."""
    sums_by_group = {
        group: sums for (_, group), sums in rollups.totals(filters, cut, group_by=group_by).items()
    }
    costs = {key: sums for (key, _), sums in rollups.group_costs(filters, cut, group_by=group_by).items()}
    ranks = rollups.group_percentiles(filters, group_by, ("mttr", "mtta"), (MEDIAN, P90))

    rows = [
        GroupRow(
            group=_plain(group),
            incidents=sums["incidents"],
            mttr=rollups.clock_stats_from_sums(sums, "mttr", ranks.get(group, {}).get("mttr", {})),
            mtta=rollups.clock_stats_from_sums(sums, "mtta", ranks.get(group, {}).get("mtta", {})),
            auto_resolution_rate=ratio(sums["auto_resolved"], sums["resolved"]),
            cost=cost_stats(costs.get(group) or sums),
        )
        for group, sums in sums_by_group.items()
        if sums["incidents"]
    ]
    return sorted(rows, key=lambda r: (-r.incidents, str(r.group)))


@dataclass(frozen=True)
class MonthTrend:
    month: date
    incidents: int
    mttd_mean: timedelta | None
    mtta_mean: timedelta | None
    mttr_mean: timedelta | None


def monthly_trend(filters: Filters, *, months: int = 12) -> list[MonthTrend]:
    """The last `months` calendar months up to the end of the range (other filters kept), one query;
    months without incidents are included with zero."""
    end = filters.end
    # The month of the range's last moment: a range ending at 1 July 00:00 ends in June.
    first = timezone.localtime(end - timedelta(microseconds=1)).date().replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    start = timezone.make_aware(datetime(first.year, first.month, 1), timezone.get_current_timezone())
    ranged = filters.with_range(start, end)
    cut = rollups.split(ranged)
    if cut is not None:
        rows = {
            month: {
                "incidents": sums["incidents"],
                **{
                    name: rollups.interval_mean(sums[f"{name}_n"], sums[f"{name}_days"], sums[f"{name}_us"])
                    for name in CLOCKS
                },
            }
            for (month, _), sums in rollups.totals(ranged, cut, bucket="month").items()
        }
    else:
        rows = _monthly_rows(ranged)
    out = []
    for month in periods(ranged, "month"):
        row = rows.get(month, {})
        out.append(
            MonthTrend(
                month=month,
                incidents=row.get("incidents", 0),
                mttd_mean=row.get("mttd"),
                mtta_mean=row.get("mtta"),
                mttr_mean=row.get("mttr"),
            )
        )
    return out


def _monthly_rows(ranged: Filters) -> dict[date, dict]:
    return {
        _plain(row["month"]): row
        for row in incidents_in(ranged)
        .annotate(month=TruncMonth("detected_at"))
        .values("month")
        .annotate(
            incidents=Count("pk"),
            mttd=Avg(CLOCKS["mttd"][0]),
            mtta=Avg(CLOCKS["mtta"][0], filter=CLOCKS["mtta"][1]),
            mttr=Avg(CLOCKS["mttr"][0], filter=CLOCKS["mttr"][1]),
        )
        .order_by("month")
    }


def peak_times(filters: Filters) -> list[list[int]]:
    """Incidents by day of week (rows, Monday first) and hour of day (columns), in local time."""
    cut = rollups.split(filters)
    if cut is not None and not rollups.narrowed(filters):
        return rollups.peak_grid(filters, cut)
    # Narrowed, the hour rollup (no segments) cannot answer: the incidents are counted directly.
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        incidents_in(filters)
        .annotate(weekday=ExtractIsoWeekDay("detected_at"), hour=ExtractHour("detected_at"))
        .values("weekday", "hour")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] = row["n"]
    return grid
