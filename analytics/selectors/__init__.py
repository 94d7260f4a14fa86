"""The numbers: MTTD, MTTA, MTTR (mean, median, p90), frequency, auto-resolution, repeats, SLA
compliance, action effectiveness, post-mortem follow-through, series, peak times and the
recommendations drawn from them, one module per subject: clocks, summary, breakdowns, remediation
and recommendations.

Everything is aggregated by the database (aggregate/annotate, window functions, date truncation) in a
fixed number of queries whatever the number of incidents. Percentiles use the nearest-rank method
(the value at rank ceil(p * n) in order) through ROW_NUMBER and COUNT windows, which PostgreSQL and
SQLite both have."""

from analytics.selectors.breakdowns import (
    GroupRow,
    MonthTrend,
    SeriesPoint,
    grouped_metrics,
    incident_series,
    monthly_trend,
    peak_times,
    periods,
)
from analytics.selectors.choices import filter_choices
from analytics.selectors.clocks import (
    DurationStats,
    PercentileDisc,
    clock_stats,
    duration_between,
    queries_per_clock,
)
from analytics.selectors.recommendations import Recommendation, action_unreliable, recommendations
from analytics.selectors.remediation import (
    ActionEffectiveness,
    ActionStats,
    FollowThrough,
    action_effectiveness,
    action_stats,
    postmortem_follow_through,
)
from analytics.selectors.reports import report_list
from analytics.selectors.summary import (
    CostStats,
    Summary,
    SummaryChange,
    cost_summary,
    ratio,
    repeat_rate,
    root_cause_shares,
    summary,
    summary_with_change,
)

__all__ = [
    "ActionEffectiveness",
    "ActionStats",
    "CostStats",
    "DurationStats",
    "FollowThrough",
    "GroupRow",
    "MonthTrend",
    "PercentileDisc",
    "Recommendation",
    "SeriesPoint",
    "Summary",
    "SummaryChange",
    "action_effectiveness",
    "action_stats",
    "action_unreliable",
    "clock_stats",
    "cost_summary",
    "duration_between",
    "filter_choices",
    "grouped_metrics",
    "incident_series",
    "monthly_trend",
    "peak_times",
    "periods",
    "postmortem_follow_through",
    "queries_per_clock",
    "ratio",
    "recommendations",
    "repeat_rate",
    "report_list",
    "root_cause_shares",
    "summary",
    "summary_with_change",
]
