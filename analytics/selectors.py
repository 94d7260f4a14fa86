"""The numbers: MTTD, MTTA, MTTR (mean, median, p90), frequency, auto-resolution, repeats, SLA
compliance, action effectiveness, post-mortem follow-through, series, peak times and the
recommendations drawn from them.

Everything is aggregated by the database (aggregate/annotate, window functions, date truncation) in a
fixed number of queries whatever the number of incidents. Percentiles use the nearest-rank method
(the value at rank ceil(p * n) in order) through ROW_NUMBER and COUNT windows, which PostgreSQL and
SQLite both have."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    RowNumber,
    TruncDay,
    TruncMonth,
    TruncWeek,
)
from django.utils import timezone

from actions.choices import RunStatus
from actions.models import ActionRun
from analytics.filters import BUCKETS, GROUP_BYS, UNCLASSIFIED, Filters, incidents_in
from incidents.choices import RootCauseCategory
from incidents.models import Incident
from postmortems.choices import (
    OPEN_ITEM_STATUSES,
    POSTMORTEM_PRIORITIES,
    POSTMORTEM_READY_STATUSES,
    ActionItemStatus,
)
from postmortems.models import ActionItem

FINISHED_RUNS = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABANDONED)


def _duration(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


# What each clock measures, and which incidents have it.
CLOCKS = {
    "mttd": (_duration("detected_at", "started_at"), Q()),
    "mtta": (_duration("acknowledged_at", "detected_at"), Q(acknowledged_at__isnull=False)),
    "mttr": (_duration("resolved_at", "detected_at"), Q(resolved_at__isnull=False)),
}
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
TRUNCS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class DurationStats:
    count: int = 0
    mean: timedelta | None = None
    median: timedelta | None = None
    p90: timedelta | None = None

    def as_dict(self) -> dict[str, Any]:
        def seconds(value: timedelta | None) -> float | None:
            return round(value.total_seconds(), 1) if value is not None else None

        return {
            "count": self.count,
            "mean": seconds(self.mean),
            "median": seconds(self.median),
            "p90": seconds(self.p90),
        }


# Percentiles as fractions, so the database and Python compute the same integer rank.
MEDIAN, P90 = (1, 2), (9, 10)


def _rank(size: int, point: tuple[int, int]) -> int:
    """ceil(size * num / den) in integers: the nearest rank."""
    num, den = point
    return (size * num + den - 1) // den


def _percentiles(qs: QuerySet, expression, group: Any = None, points=(MEDIAN, P90)) -> dict[Any, dict]:
    """Nearest-rank percentiles of `expression` over `qs`, per value of `group` (None: one group),
    in one query: each row gets its rank and its group's size from window functions, and only the
    rows at the wanted ranks come back."""
    partition = [group] if group is not None else None
    ranked = qs.annotate(value=expression).filter(value__isnull=False)
    ranked = ranked.annotate(
        group=group if group is not None else Value(None, output_field=DurationField()),
        rank=Window(RowNumber(), partition_by=partition, order_by=[F("value").asc(), F("pk").asc()]),
        size=Window(Count("pk"), partition_by=partition),
    )
    wanted = Q()
    for num, den in points:
        wanted |= Q(rank=(F("size") * num + (den - 1)) / den)
    out: dict[Any, dict] = defaultdict(dict)
    for row in ranked.filter(wanted).values("group", "rank", "size", "value"):
        for point in points:
            if row["rank"] == _rank(row["size"], point):
                out[row["group"]][point] = row["value"]
    return out


class PercentileDisc(Aggregate):
    """PostgreSQL's ordered-set aggregate: the first value whose cumulative share reaches the
    fraction, i.e. the nearest rank ceil(fraction * n), like the window-function path."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=fraction, **extra)


def queries_per_clock() -> int:
    """PostgreSQL gets a clock's count, mean and percentiles in one query; SQLite needs a second,
    with window functions, for the percentiles."""
    return 1 if connection.vendor == "postgresql" else 2


def _clock_stats_postgres(measured: QuerySet, expression, group: Any) -> dict[Any, DurationStats]:
    aggregates = {
        "count": Count("pk"),
        "mean": Avg(expression),
        "median": PercentileDisc(expression, MEDIAN[0] / MEDIAN[1], output_field=DurationField()),
        "p90": PercentileDisc(expression, P90[0] / P90[1], output_field=DurationField()),
    }
    if group is None:
        rows = [measured.aggregate(**aggregates) | {"group": None}]
    else:
        rows = measured.annotate(group=group).values("group").annotate(**aggregates).order_by()
    return {
        row["group"]: DurationStats(
            count=row["count"], mean=row["mean"], median=row["median"], p90=row["p90"]
        )
        for row in rows
    }


def clock_stats(qs: QuerySet[Incident], clock: str, group: Any = None) -> dict[Any, DurationStats]:
    """Count, mean, median and p90 of one clock (mttd, mtta, mttr), overall (key None) or per group."""
    expression, has_it = CLOCKS[clock]
    measured = qs.filter(has_it)
    if connection.vendor == "postgresql":
        return _clock_stats_postgres(measured, expression, group)
    if group is None:
        totals = [measured.aggregate(count=Count("pk"), mean=Avg(expression)) | {"group": None}]
    else:
        totals = (
            measured.annotate(group=group).values("group").annotate(count=Count("pk"), mean=Avg(expression))
        )
    ranks = _percentiles(measured, expression, group)
    return {
        row["group"]: DurationStats(
            count=row["count"],
            mean=row["mean"],
            median=ranks.get(row["group"], {}).get(MEDIAN),
            p90=ranks.get(row["group"], {}).get(P90),
        )
        for row in totals
    }


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
        }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# The repeat rate, one definition for the summary, the recommendations and the reports: the share
# of incidents that repeat an earlier one (is_repeat, marked by incidents.services.repeats) or
# were reopened, among the incidents the filters select.
REPEATED = Q(is_repeat=True) | Q(reopen_count__gt=0)


def repeat_rate(repeated: int, incidents: int) -> float | None:
    return _rate(repeated, incidents)


def root_cause_shares(counts: dict[str, int]) -> dict[str, float | None]:
    """Each root cause's share, one definition for the recommendations and the reports: of the
    classified incidents (`counts` by category, UNCLASSIFIED included), as an unclassified incident
    says nothing about causes; so UNCLASSIFIED itself has none."""
    classified = sum(n for cause, n in counts.items() if cause != UNCLASSIFIED)
    return {cause: None if cause == UNCLASSIFIED else _rate(n, classified) for cause, n in counts.items()}


def summary(filters: Filters, *, now: datetime | None = None) -> Summary:
    """The headline numbers for the filtered incidents: counts, SLA, priorities, and
    `queries_per_clock()` per clock (6 queries on PostgreSQL, 9 on SQLite)."""
    now = now or timezone.now()
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
        auto_resolution_rate=_rate(counts["auto_resolved"], counts["resolved"]),
        repeats=counts["repeats"],
        reopened=counts["reopened"],
        repeat_rate=repeat_rate(counts["repeat_or_reopened"], counts["incidents"]),
        sla_response_rate=_rate(response["met"], counts["response_due"]),
        sla_resolution_rate=_rate(response["resolution_met"], response["resolution_due"]),
    )


@dataclass(frozen=True)
class SummaryChange:
    """A summary with the previous period's, for the cards' "change against the previous period"."""

    current: Summary
    previous: Summary


def summary_with_change(filters: Filters, *, now: datetime | None = None) -> SummaryChange:
    return SummaryChange(current=summary(filters, now=now), previous=summary(filters.previous(), now=now))


def _group_expression(group_by: str | None):
    if group_by is None:
        return None
    if group_by not in GROUP_FIELDS:
        raise ValueError(f"Unknown group-by {group_by!r}; expected one of {', '.join(GROUP_BYS)}.")
    return GROUP_FIELDS[group_by]


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


def incident_series(
    filters: Filters, *, bucket: str = "day", group_by: str | None = None
) -> list[SeriesPoint]:
    """Incidents (and mean MTTR) per day, week or month, optionally split by a group, in one query;
    periods without incidents are absent (see `periods`). Grouping by service type or team counts an
    incident once under each of its services' types or teams."""
    if bucket not in BUCKETS:
        raise ValueError(f"Unknown bucket {bucket!r}; expected one of {', '.join(BUCKETS)}.")
    group = _group_expression(group_by)
    qs = incidents_in(filters).annotate(period=TRUNCS[bucket]("detected_at"))
    fields = ["period"]
    if group is not None:
        qs = qs.annotate(group=group)
        fields.append("group")
    rows = (
        qs.values(*fields)
        .annotate(
            incidents=Count("pk", distinct=True),
            mttr_mean=Avg(CLOCKS["mttr"][0], filter=Q(resolved_at__isnull=False)),
        )
        .order_by(*fields)
    )
    return [
        SeriesPoint(
            period=_plain(row["period"]),
            group=_plain(row["group"]) if group is not None else None,
            incidents=row["incidents"],
            mttr_mean=row["mttr_mean"],
        )
        for row in rows
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


def grouped_metrics(filters: Filters, group_by: str) -> list[GroupRow]:
    """Incidents, MTTR and MTTA (mean, median, p90) and auto-resolution per group (1 query plus
    `queries_per_clock()` per clock).
    Grouped by service type or team, an incident counts once under each of its services."""
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
        )
    }
    mttr = clock_stats(qs, "mttr", group)
    mtta = clock_stats(qs, "mtta", group)
    rows = [
        GroupRow(
            group=_plain(key),
            incidents=row["incidents"],
            mttr=mttr.get(key, DurationStats()),
            mtta=mtta.get(key, DurationStats()),
            auto_resolution_rate=_rate(row["auto"], row["resolved"]),
        )
        for key, row in counts.items()
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
    rows = {
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


def peak_times(filters: Filters) -> list[list[int]]:
    """Incidents by day of week (rows, Monday first) and hour of day (columns), in local time."""
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


@dataclass(frozen=True)
class ActionStats:
    action_id: int
    action: str
    runs: int
    succeeded: int
    success_rate: float | None
    mean_duration: timedelta | None


@dataclass(frozen=True)
class ActionEffectiveness:
    actions: list[ActionStats]
    mttr_with_automation: DurationStats
    mttr_without_automation: DurationStats


def action_stats(filters: Filters) -> list[ActionStats]:
    """Per action: finished runs on the filtered incidents, success rate, mean duration (1 query)."""
    runs = ActionRun.objects.filter(incident__in=incidents_in(filters).values("pk"), status__in=FINISHED_RUNS)
    rows = (
        runs.values("action_id", "action__name")
        .annotate(
            runs=Count("pk"),
            succeeded=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)),
            mean=Avg(_duration("finished_at", "started_at")),
        )
        .order_by("-runs", "action__name")
    )
    return [
        ActionStats(
            action_id=row["action_id"],
            action=row["action__name"],
            runs=row["runs"],
            succeeded=row["succeeded"],
            success_rate=_rate(row["succeeded"], row["runs"]),
            mean_duration=row["mean"],
        )
        for row in rows
    ]


def action_effectiveness(filters: Filters) -> ActionEffectiveness:
    """`action_stats`, and MTTR of incidents that had an automated run (requested by the system,
    e.g. an alert rule) against the rest."""
    actions = action_stats(filters)
    automated = Exists(ActionRun.objects.filter(incident=OuterRef("pk"), requested_by__isnull=True))
    qs = incidents_in(filters).annotate(automated=automated)
    split = clock_stats(qs, "mttr", F("automated"))
    return ActionEffectiveness(
        actions=actions,
        mttr_with_automation=split.get(True, DurationStats()),
        mttr_without_automation=split.get(False, DurationStats()),
    )


@dataclass(frozen=True)
class FollowThrough:
    p1_p2_resolved: int
    postmortems_completed: int
    completion_rate: float | None
    items_done: int
    items_open: int
    items_overdue: int
    items_wont_do: int


def postmortem_follow_through(filters: Filters, *, today: date | None = None) -> FollowThrough:
    """P1/P2 incidents resolved in the range with a post-mortem in review or published, and the
    status of those post-mortems' action items (2 queries)."""
    today = today or timezone.localdate()
    serious = incidents_in(filters).filter(
        priority__code__in=POSTMORTEM_PRIORITIES, resolved_at__isnull=False
    )
    pm = serious.aggregate(
        resolved=Count("pk"),
        completed=Count("pk", filter=Q(postmortem__status__in=POSTMORTEM_READY_STATUSES)),
    )
    items = ActionItem.objects.filter(postmortem__incident__in=serious.values("pk")).aggregate(
        done=Count("pk", filter=Q(status=ActionItemStatus.DONE)),
        open=Count("pk", filter=Q(status__in=OPEN_ITEM_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_ITEM_STATUSES, due_date__lt=today)),
        wont=Count("pk", filter=Q(status=ActionItemStatus.WONT_DO)),
    )
    return FollowThrough(
        p1_p2_resolved=pm["resolved"],
        postmortems_completed=pm["completed"],
        completion_rate=_rate(pm["completed"], pm["resolved"]),
        items_done=items["done"],
        items_open=items["open"],
        items_overdue=items["overdue"],
        items_wont_do=items["wont"],
    )


@dataclass(frozen=True)
class Recommendation:
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


# The rules' thresholds, named so the dashboard and the tests can say what triggered.
MTTR_RISE = 1.2
REPEAT_RATE_LIMIT = 0.15
ROOT_CAUSE_SHARE_LIMIT = 0.30
ACTION_SUCCESS_FLOOR = 0.80
ACTION_MIN_RUNS = 5


def action_unreliable(stats: ActionStats) -> bool:
    """Enough finished runs to judge, and too few of them succeeded: the action table marks these
    and the recommendations name them, by this one rule."""
    return (
        stats.runs >= ACTION_MIN_RUNS
        and stats.success_rate is not None
        and stats.success_rate < ACTION_SUCCESS_FLOOR
    )


def recommendations(filters: Filters) -> list[Recommendation]:
    """Advice from rules. The repeat rate, the root causes and the actions are judged on the filtered
    incidents, with the same numbers the summary, the charts and the action table show for them:
    - repeat rate (`REPEATED`) above 15%: focus on permanent fixes;
    - a root-cause category above 30% of the classified incidents: name it;
    - an action with at least 5 finished runs succeeding less than 80% of the time: review it.
    MTTR is a trend over fixed windows up to the end of the range (other filters kept):
    - mean MTTR of the last 3 months above 1.2x the 12-month mean: MTTR is increasing."""
    year = filters.with_range(filters.end - timedelta(days=365), filters.end)
    quarter = filters.with_range(filters.end - timedelta(days=91), filters.end)
    out: list[Recommendation] = []
    resolved, in_quarter = Q(resolved_at__isnull=False), Q(detected_at__gte=quarter.start)
    trend = incidents_in(year).aggregate(
        mttr_year=Avg(CLOCKS["mttr"][0], filter=resolved),
        mttr_quarter=Avg(CLOCKS["mttr"][0], filter=resolved & in_quarter),
    )
    mttr_year, mttr_quarter = trend["mttr_year"], trend["mttr_quarter"]
    if mttr_year and mttr_quarter and mttr_quarter > mttr_year * MTTR_RISE:
        out.append(
            Recommendation(
                code="mttr_increasing",
                message=(
                    f"MTTR is increasing: {_minutes(mttr_quarter)} over the last 3 months against "
                    f"{_minutes(mttr_year)} over 12 months. Look at what slows resolution down."
                ),
                details={
                    "last_3_months": mttr_quarter.total_seconds(),
                    "last_12_months": mttr_year.total_seconds(),
                },
            )
        )
    qs = incidents_in(filters)
    counts = qs.aggregate(incidents=Count("pk"), repeated=Count("pk", filter=REPEATED))
    rate = repeat_rate(counts["repeated"], counts["incidents"])
    if rate is not None and rate > REPEAT_RATE_LIMIT:
        out.append(
            Recommendation(
                code="repeats_high",
                message=(
                    f"{rate:.0%} of incidents repeat an earlier one or were reopened: "
                    "focus on permanent fixes rather than workarounds."
                ),
                details={"repeat_rate": rate},
            )
        )
    causes = {
        row["root_cause_category"] or UNCLASSIFIED: row["n"]
        for row in qs.values("root_cause_category").annotate(n=Count("pk")).order_by()
    }
    shares = root_cause_shares(causes)
    for cause in sorted(causes, key=lambda c: (-causes[c], c)):
        share = shares[cause]
        if share is not None and share > ROOT_CAUSE_SHARE_LIMIT:
            label = RootCauseCategory(cause).label
            out.append(
                Recommendation(
                    code="root_cause_dominant",
                    message=f"{label} causes {share:.0%} of classified incidents: invest in preventing it.",
                    details={"root_cause": cause, "share": share},
                )
            )
    for stats in action_stats(filters):
        if action_unreliable(stats):
            out.append(
                Recommendation(
                    code="action_unreliable",
                    message=(
                        f"{stats.action} succeeded in {stats.success_rate:.0%} of {stats.runs} runs: review "
                        "the action (steps, timeouts, targets)."
                    ),
                    details={
                        "action": stats.action_id,
                        "success_rate": stats.success_rate,
                        "runs": stats.runs,
                    },
                )
            )
    return out


def _minutes(value: timedelta) -> str:
    minutes = value.total_seconds() / 60
    return f"{minutes / 60:.1f} h" if minutes >= 120 else f"{minutes:.0f} min"
