"""The clocks (MTTD, MTTA, MTTR) as mean, median and p90, aggregated by the database. Percentiles use
the nearest-rank method (the value at rank ceil(p * n) in order) through ROW_NUMBER and COUNT
windows, which PostgreSQL and SQLite both have; PostgreSQL uses PERCENTILE_DISC."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import RowNumber

from actions.choices import RunStatus
from incidents.models import Incident

FINISHED_RUNS = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABANDONED)


def duration_between(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


# What each clock measures, and which incidents have it.
CLOCKS = {
    "mttd": (duration_between("detected_at", "started_at"), Q()),
    "mtta": (duration_between("acknowledged_at", "detected_at"), Q(acknowledged_at__isnull=False)),
    "mttr": (duration_between("resolved_at", "detected_at"), Q(resolved_at__isnull=False)),
}


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
