"""The analytics dashboard's drills section: each completed drill in the range with its four
response times (drills.selectors.drill_timings), and the trend of acknowledge and resolve times."""

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from analytics.charts import svg
from analytics.params import AnalyticsParams
from drills.markdown import TIMING_LABELS, duration_text
from drills.selectors import drill_runs_completed, drill_timings

DRILLS_SHOWN = 50


def drills_panel(params: AnalyticsParams) -> SafeString:
    in_range = drill_runs_completed(since=params.filters.start).filter(started_at__lt=params.filters.end)
    # The latest drills, drawn oldest first.
    runs = list(in_range.order_by("-started_at", "-id")[:DRILLS_SHOWN])[::-1]
    rows = []
    for run in runs:
        timings = drill_timings(run)
        rows.append(
            {
                "run": run,
                "label": f"{run.started_at:%d %b}",
                "timings": [duration_text(getattr(timings, name)) for name in TIMING_LABELS],
                "minutes": {
                    name: value.total_seconds() / 60
                    if (value := getattr(timings, name)) is not None
                    else None
                    for name in TIMING_LABELS
                },
            }
        )
    charts = [
        svg.line_chart(
            [(row["label"], row["minutes"][name]) for row in rows],
            title=f"{TIMING_LABELS[name]} across drills",
            unit="min",
        )
        for name in ("acknowledge", "resolve")
    ]
    return render_to_string(
        "drills/analytics_panel.html",
        {"rows": rows, "labels": list(TIMING_LABELS.values()), "charts": charts if rows else []},
    )
