"""Reading the analytics rollups: the same numbers as the direct queries over the incidents, from
per-day sums for the whole days of a range and from the members (one row per incident) for its
ragged edges (the part of the first and last day the range covers).

The selectors call these when `split(filters)` says the rollups can answer (built, in the current
TIME_ZONE, and the range holds a whole day); otherwise they query the incidents directly."""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, F, Q, QuerySet, Sum
from django.db.models.functions import ExtractIsoWeekDay, TruncMonth, TruncWeek
from django.utils import timezone

from analytics.filters import UNCLASSIFIED, Filters
from analytics.models import (
    ClockDayHistogram,
    CostGroupDayRollup,
    IncidentDayRollup,
    IncidentHourRollup,
    IncidentRollupMember,
    RollupSegment,
    RollupSegmentGroup,
    RollupState,
)
from analytics.rollups.facts import CLOCK_NAMES, DAY_SUMS, DAY_US, contribution
from analytics.selectors.clocks import MEDIAN, P90, DurationStats, PercentileDisc

SERVICE_KINDS = ("service_type", "team")
# What asking whether the rollups are built costs a selector call (when its range holds a day).
STATE_QUERIES = 1
# The series buckets and the month group-by, as date truncations of the rollup's day.
PERIODS = {"day": None, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class Split:
    """A range cut at local midnights: whole days [first, stop) and the edges around them."""

    first: date
    stop: date
    edges: tuple[tuple[datetime, datetime], ...]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def split(filters: Filters) -> Split | None:
    """Where the rollups answer for these filters; None when they cannot (not built, built in
    another TIME_ZONE, or the range holds no whole day)."""
    start, end = timezone.localtime(filters.start), timezone.localtime(filters.end)
    first = start.date() if _midnight(start.date()) == start else start.date() + timedelta(days=1)
    stop = end.date()
    if first >= stop:
        return None
    if not RollupState.objects.filter(time_zone=settings.TIME_ZONE).exists():
        return None
    edges = []
    if filters.start < _midnight(first):
        edges.append((filters.start, _midnight(first)))
    if _midnight(stop) < filters.end:
        edges.append((_midnight(stop), filters.end))
    return Split(first=first, stop=stop, edges=tuple(edges))


def narrowed(filters: Filters) -> bool:
    return bool(
        filters.services
        or filters.service_types
        or filters.teams
        or filters.priorities
        or filters.root_causes
    )


def segments(filters: Filters) -> QuerySet[RollupSegment]:
    """The segments whose incidents analytics.filters.incidents_in selects (the range apart)."""
    qs = RollupSegment.objects.all()
    if not filters.include_drills:
        qs = qs.filter(is_drill=False)
    if filters.priorities:
        qs = qs.filter(priority__code__in=filters.priorities)
    if filters.root_causes:
        codes = [c for c in filters.root_causes if c != UNCLASSIFIED]
        if UNCLASSIFIED in filters.root_causes:
            codes.append("")
        qs = qs.filter(root_cause_category__in=codes)
    through = RollupSegment.services.through.objects.all()
    # One service has to match every service narrowing, as in incidents_in.
    if filters.services:
        through = through.filter(service__slug__in=filters.services)
    if filters.service_types:
        through = through.filter(service__type__in=filters.service_types)
    if filters.teams:
        through = through.filter(service__owner_team__in=filters.teams)
    if filters.services or filters.service_types or filters.teams:
        qs = qs.filter(pk__in=through.values("rollupsegment_id"))
    return qs


def _period(day: date, bucket: str | None) -> date | None:
    if bucket is None:
        return None
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _segment_keys(ids: set[int], group_by: str | None) -> dict[int, list[tuple[Any, int]]]:
    """(group key, weight) pairs per segment for a group-by, as the direct query's group value."""
    if group_by in SERVICE_KINDS:
        out: dict[int, list[tuple[Any, int]]] = defaultdict(list)
        for segment_id, key, mult in RollupSegmentGroup.objects.filter(
            segment_id__in=ids, kind=group_by
        ).values_list("segment_id", "key", "mult"):
            out[segment_id].append((key, mult))
        return out
    if group_by == "priority":
        rows = RollupSegment.objects.filter(pk__in=ids).values_list("pk", "priority__code")
        return {pk: [(code, 1)] for pk, code in rows}
    if group_by == "root_cause":
        rows = RollupSegment.objects.filter(pk__in=ids).values_list("pk", "root_cause_category")
        return {pk: [(cause or UNCLASSIFIED, 1)] for pk, cause in rows}
    return {pk: [(None, 1)] for pk in ids}


WEIGHTED = (
    "mttd_n",
    "mttd_days",
    "mttd_us",
    "mtta_n",
    "mtta_days",
    "mtta_us",
    "mttr_n",
    "mttr_days",
    "mttr_us",
)


def _add(into: dict[str, Any], sums: dict[str, Any], weight: int, alone: bool, group_by: str | None) -> None:
    """Add a row's sums to a group's totals: the clock sums `weight` times (once per service of the
    group, as the direct join counts them); by service type or team the cost only for incidents
    without services (`alone`), the others' comes from analytics.IncidentCostGroup."""
    for column, value in sums.items():
        if column in WEIGHTED:
            value = value * weight
        elif column.startswith("cost_") and group_by in SERVICE_KINDS and not alone:
            value = 0
        into[column] = into.get(column, 0) + (value or 0)


def _sums(group_by: str | None) -> dict[str, Any]:
    """Sum of each DAY_SUMS column over IncidentDayRollup rows; by service type or team weighted by
    the group's services (see _add), the cost only for incidents without services."""
    if group_by not in SERVICE_KINDS:
        return {f"sum_{column}": Sum(column) for column in DAY_SUMS}
    out: dict[str, Any] = {}
    for column in DAY_SUMS:
        if column in WEIGHTED:
            out[f"sum_{column}"] = Sum(F(column) * F("segment__groups__mult"), output_field=BigIntegerField())
        elif column.startswith("cost_"):
            out[f"sum_{column}"] = Sum(column, filter=Q(segment__groups__key__isnull=True))
        else:
            out[f"sum_{column}"] = Sum(column)
    return out


ROLLUP_GROUPS = {
    "priority": F("segment__priority__code"),
    "root_cause": F("segment__root_cause_category"),
    "service_type": F("segment__groups__key"),
    "team": F("segment__groups__key"),
    "month": TruncMonth("day"),
}


def totals(
    filters: Filters, cut: Split, *, bucket: str | None = None, group_by: str | None = None
) -> dict[tuple[Any, Any], dict[str, Any]]:
    """DAY_SUMS per (period, group) for the filtered incidents: whole days from IncidentDayRollup
    (1 query), edges from their members (1 query, and 1 for their segments' groups; none without
    edges). `group_by` is one of analytics.filters.GROUP_BYS or None; `bucket` day, week, month or
    None (then the period is None)."""
    chosen = segments(filters)
    rows = IncidentDayRollup.objects.filter(day__gte=cut.first, day__lt=cut.stop, segment__in=chosen)
    if group_by in SERVICE_KINDS:
        rows = rows.filter(segment__groups__kind=group_by)
    names = []
    if bucket:
        rows = rows.annotate(period=PERIODS[bucket]("day") if PERIODS[bucket] else F("day"))
        names.append("period")
    if group_by:
        rows = rows.annotate(group=ROLLUP_GROUPS[group_by])
        names.append("group")
    out: dict[tuple[Any, Any], dict[str, Any]] = {}
    if names:
        grouped = list(rows.values(*names).annotate(**_sums(group_by)).order_by())
    else:
        grouped = [rows.aggregate(**_sums(group_by))]
        if grouped[0]["sum_incidents"] is None:  # no whole-day incidents
            grouped = []
    for row in grouped:
        group = row.get("group")
        if group_by == "root_cause":
            group = group or UNCLASSIFIED
        key = (_as_date(row.get("period")), _as_date(group) if group_by == "month" else group)
        _add(out.setdefault(key, {}), {c: row[f"sum_{c}"] for c in DAY_SUMS}, 1, True, None)
    if not cut.edges:
        return out
    edge = Q()
    for start, end in cut.edges:
        edge |= Q(detected_at__gte=start, detected_at__lt=end)
    members = list(IncidentRollupMember.objects.filter(edge, segment__in=chosen).values())
    group_keys = _segment_keys({m["segment_id"] for m in members}, None if group_by == "month" else group_by)
    for member in members:
        period = _period(member["day"], bucket)
        for key, weight in group_keys.get(member["segment_id"], []):
            group = _period(member["day"], "month") if group_by == "month" else key
            alone = group_by in SERVICE_KINDS and key is None
            _add(out.setdefault((period, group), {}), contribution(member), weight, alone, group_by)
    return out


def group_costs(
    filters: Filters, cut: Split, *, bucket: str | None = None, group_by: str
) -> dict[tuple[Any, Any], dict]:
    """Cost per (team or service type, period), each incident once per group as
    analytics.IncidentCostGroup says: CostGroupDayRollup for the whole days, the edges' members.
    `bucket` day, week, month or None (the whole range: then the period is None)."""
    chosen = segments(filters)
    rows = CostGroupDayRollup.objects.filter(
        day__gte=cut.first, day__lt=cut.stop, segment__in=chosen, kind=group_by
    )
    names = ["key"]
    if bucket:
        rows = rows.annotate(period=PERIODS[bucket]("day") if PERIODS[bucket] else F("day"))
        names.append("period")
    out: dict[tuple[Any, Any], dict] = {}
    for row in (
        rows.values(*names)
        .annotate(n=Sum("cost_incidents"), total=Sum("cost_total"), seconds=Sum("cost_seconds"))
        .order_by()
    ):
        out[(row["key"], _as_date(row.get("period")))] = {
            "cost_incidents": row["n"],
            "cost_total": row["total"],
            "cost_seconds": row["seconds"],
        }
    if cut.edges:
        edge = Q()
        for start, end in cut.edges:
            edge |= Q(detected_at__gte=start, detected_at__lt=end)
        for member in IncidentRollupMember.objects.filter(edge, segment__in=chosen, cost=True).values():
            for kind, key in member["cost_groups"]:
                if kind != group_by:
                    continue
                sums = out.setdefault(
                    (key, _period(member["day"], bucket)),
                    {"cost_incidents": 0, "cost_total": 0, "cost_seconds": 0},
                )
                sums["cost_incidents"] += 1
                sums["cost_total"] += member["cost_amount"] or 0
                sums["cost_seconds"] += member["cost_seconds"] or 0
    return out


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def interval_mean(count: int, days: int, us: int) -> timedelta | None:
    """The mean of `count` durations summing to `us` microseconds (`days` of them in whole days),
    as the database's AVG gives it: PostgreSQL's avg(interval) divides an interval kept as days
    and microseconds (interval_div, replayed here step by step in the same double arithmetic);
    SQLite averages microseconds as a double."""
    if not count:
        return None
    if connection.vendor != "postgresql":
        return timedelta(0, 0, us / count)
    rest = us - days * DAY_US
    factor = float(count)
    result_day = int(days / factor)
    seconds = (days / factor - result_day) * 86400
    seconds = round(seconds * 1_000_000) / 1_000_000
    if abs(seconds) >= 86400:
        whole = int(seconds / 86400)
        result_day += whole
        seconds -= whole * 86400
    result_time = round(rest / factor + seconds * 1_000_000)
    return timedelta(days=result_day, microseconds=result_time)


def clock_stats_from_sums(sums: dict[str, Any], clock: str, found: dict) -> DurationStats:
    """A clock's stats from rollup sums (`<clock>_n`, `_days`, `_us`) and its percentiles found by
    this module (`found`: point -> value), as the direct query gives them."""
    count = sums[f"{clock}_n"]
    if not count:
        return DurationStats()
    return DurationStats(
        count=count,
        mean=interval_mean(count, sums[f"{clock}_days"], sums[f"{clock}_us"]),
        median=found.get(MEDIAN),
        p90=found.get(P90),
    )


def _rank(size: int, fraction: tuple[int, int]) -> int:
    """The nearest rank as the direct query computes it: PostgreSQL's PERCENTILE_DISC takes
    ceil(fraction * n) in double arithmetic, the SQLite path ceil(n * num / den) in integers."""
    num, den = fraction
    if connection.vendor == "postgresql":
        return max(math.ceil((num / den) * size), 1)
    return (size * num + den - 1) // den


def percentiles(
    filters: Filters, cut: Split, points: tuple[tuple[int, int], ...]
) -> dict[str, dict[tuple[int, int], timedelta | None]]:
    """Exact nearest-rank percentiles of each clock over the filtered incidents, for filters that
    do not narrow (ClockDayHistogram has no segment): bucket counts of the whole days (1 query)
    plus the edges' (1 query), then each wanted value as the k-th of its bucket through the
    member index (1 query per clock and point)."""
    assert not narrowed(filters)
    hist = ClockDayHistogram.objects.filter(day__gte=cut.first, day__lt=cut.stop)
    members = IncidentRollupMember.objects.filter(detected_at__gte=filters.start, detected_at__lt=filters.end)
    if not filters.include_drills:
        hist, members = hist.filter(is_drill=False), members.filter(is_drill=False)
    counts: dict[str, dict[int, int]] = {name: defaultdict(int) for name in CLOCK_NAMES}
    for clock, bucket, n in hist.values_list("clock", "bucket").annotate(n=Sum("n")).order_by():
        counts[clock][bucket] += n
    if cut.edges:
        edge = Q()
        for start, end in cut.edges:
            edge |= Q(detected_at__gte=start, detected_at__lt=end)
        fields = [f"{name}_b" for name in CLOCK_NAMES]
        for row in (
            IncidentRollupMember.objects.filter(edge)
            .filter(Q() if filters.include_drills else Q(is_drill=False))
            .values_list(*fields)
        ):
            for name, bucket in zip(CLOCK_NAMES, row, strict=True):
                if bucket is not None:
                    counts[name][bucket] += 1
    out: dict[str, dict[tuple[int, int], timedelta | None]] = {}
    for name in CLOCK_NAMES:
        size = sum(counts[name].values())
        out[name] = {}
        for point in points:
            if not size:
                out[name][point] = None
                continue
            rank, below = _rank(size, point), 0
            for bucket in sorted(counts[name]):
                if below + counts[name][bucket] >= rank:
                    break
                below += counts[name][bucket]
            value = (
                members.filter(**{f"{name}_b": bucket})
                .order_by(f"{name}_us")
                .values_list(f"{name}_us", flat=True)[rank - below - 1]
            )
            out[name][point] = timedelta(microseconds=value)
    return out


def member_percentiles(
    filters: Filters, points: tuple[tuple[int, int], ...]
) -> dict[str, dict[tuple[int, int], timedelta | None]]:
    """Nearest-rank percentiles of each clock over the members of narrowing filters' segments, in
    one PostgreSQL query (PERCENTILE_DISC, as the direct query): a scan of the range's narrow
    member rows instead of the incidents and their services."""
    members = IncidentRollupMember.objects.filter(
        detected_at__gte=filters.start, detected_at__lt=filters.end, segment__in=segments(filters)
    )
    found = members.aggregate(
        **{
            f"{name}_{num}_{den}": PercentileDisc(f"{name}_us", num / den, output_field=BigIntegerField())
            for name in CLOCK_NAMES
            for num, den in points
        }
    )
    return {
        name: {
            (num, den): None
            if found[f"{name}_{num}_{den}"] is None
            else timedelta(microseconds=found[f"{name}_{num}_{den}"])
            for num, den in points
        }
        for name in CLOCK_NAMES
    }


def group_percentiles(
    filters: Filters, group_by: str, clocks: tuple[str, ...], points: tuple[tuple[int, int], ...]
) -> dict[Any, dict[str, dict[tuple[int, int], timedelta | None]]]:
    """Nearest-rank percentiles of each clock per service type or team, on PostgreSQL, in one query
    over the range's member rows: each member counts once per service of the group (the group's
    `mult` copies, as the direct join of incidents to their services counts it), so
    PERCENTILE_DISC sees the same multiset the direct query does; its array form takes every point
    from one sort per clock."""
    assert group_by in SERVICE_KINDS and connection.vendor == "postgresql"
    assert set(clocks) <= set(CLOCK_NAMES)  # column names, written into the SQL
    chosen, chosen_params = segments(filters).values("pk").query.sql_with_params()
    aggregates = ", ".join(
        f"PERCENTILE_DISC(%s::float8[]) WITHIN GROUP (ORDER BY m.{name}_us)" for name in clocks
    )
    fractions = [[num / den for num, den in points] for _ in clocks]
    sql = (
        f"SELECT g.key, {aggregates} FROM {IncidentRollupMember._meta.db_table} m "
        f"JOIN {RollupSegmentGroup._meta.db_table} g ON g.segment_id = m.segment_id AND g.kind = %s "
        "CROSS JOIN LATERAL generate_series(1, g.mult) AS copies(n) "
        f"WHERE m.detected_at >= %s AND m.detected_at < %s AND m.segment_id IN ({chosen}) "
        "GROUP BY g.key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*fractions, group_by, filters.start, filters.end, *chosen_params])
        rows = cursor.fetchall()
    out: dict[Any, dict[str, dict[tuple[int, int], timedelta | None]]] = {}
    for key, *found in rows:
        out[key] = {
            name: {
                point: None if value is None else timedelta(microseconds=value)
                for point, value in zip(points, values or [None] * len(points), strict=True)
            }
            for name, values in zip(clocks, found, strict=True)
        }
    return out


def peak_grid(filters: Filters, cut: Split) -> list[list[int]]:
    """Incidents by ISO weekday and hour (local) for filters that do not narrow."""
    assert not narrowed(filters)
    grid = [[0] * 24 for _ in range(7)]
    hours = IncidentHourRollup.objects.filter(day__gte=cut.first, day__lt=cut.stop)
    if not filters.include_drills:
        hours = hours.filter(is_drill=False)
    rows = (
        hours.annotate(weekday=ExtractIsoWeekDay("day"))
        .values("weekday", "hour")
        .annotate(n=Sum("incidents"))
    )
    for row in rows.order_by():
        grid[row["weekday"] - 1][row["hour"]] += row["n"]
    if cut.edges:
        edge = Q()
        for start, end in cut.edges:
            edge |= Q(detected_at__gte=start, detected_at__lt=end)
        members = IncidentRollupMember.objects.filter(edge)
        if not filters.include_drills:
            members = members.filter(is_drill=False)
        for day, hour in members.values_list("day", "hour"):
            grid[day.isoweekday() - 1][hour] += 1
    return grid
