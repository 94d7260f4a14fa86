"""Advice drawn by rules from the same numbers the summary, the charts and the action table show."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Avg, Count, Q

from analytics.filters import UNCLASSIFIED, Filters, incidents_in
from analytics.rollups import read as rollups
from analytics.selectors.clocks import CLOCKS
from analytics.selectors.remediation import ActionStats, action_stats
from analytics.selectors.summary import REPEATED, repeat_rate, root_cause_shares
from incidents.choices import RootCauseCategory


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
    mttr_year, mttr_quarter = _mttr_trend(year, quarter)
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
    counts, causes = _repeats_and_causes(filters)
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


def _mttr_trend(year: Filters, quarter: Filters) -> tuple[timedelta | None, timedelta | None]:
    """Mean MTTR over the year and over its last quarter (rollups when both can answer)."""
    cuts = rollups.split(year), rollups.split(quarter)
    if cuts[0] is not None and cuts[1] is not None:
        means = []
        for filters, cut in zip((year, quarter), cuts, strict=True):
            sums = rollups.totals(filters, cut).get((None, None), {})
            means.append(
                rollups.interval_mean(sums.get("mttr_n", 0), sums.get("mttr_days", 0), sums.get("mttr_us", 0))
            )
        return means[0], means[1]
    resolved, in_quarter = Q(resolved_at__isnull=False), Q(detected_at__gte=quarter.start)
    trend = incidents_in(year).aggregate(
        mttr_year=Avg(CLOCKS["mttr"][0], filter=resolved),
        mttr_quarter=Avg(CLOCKS["mttr"][0], filter=resolved & in_quarter),
    )
    return trend["mttr_year"], trend["mttr_quarter"]


def _repeats_and_causes(filters: Filters) -> tuple[dict[str, int], dict[str, int]]:
    """The incidents, the repeated ones (`REPEATED`) and the incidents per root cause."""
    cut = rollups.split(filters)
    if cut is not None:
        by_cause = rollups.totals(filters, cut, group_by="root_cause")
        counts = {
            "incidents": sum(s["incidents"] for s in by_cause.values()),
            "repeated": sum(s["repeated"] for s in by_cause.values()),
        }
        return counts, {cause: s["incidents"] for (_, cause), s in by_cause.items()}
    qs = incidents_in(filters)
    counts = qs.aggregate(incidents=Count("pk"), repeated=Count("pk", filter=REPEATED))
    causes = {
        row["root_cause_category"] or UNCLASSIFIED: row["n"]
        for row in qs.values("root_cause_category").annotate(n=Count("pk")).order_by()
    }
    return counts, causes


def _minutes(value: timedelta) -> str:
    minutes = value.total_seconds() / 60
    return f"{minutes / 60:.1f} h" if minutes >= 120 else f"{minutes:.0f} min"
