"""The "Analytics" admin page: headline cards against the previous period, server-drawn charts,
the grouped tables, recommendations, and a CSV of the table behind each chart (`?export=<chart>`).

Every number comes from analytics.selectors; this module only arranges them. It is mounted by
analytics.admin_dashboard_urls (wrapped in admin_view, so it needs a staff login) and needs
`incidents.view_incident` on top."""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone

from analytics import selectors
from analytics.charts import svg
from analytics.filters import BUCKETS, GROUP_BYS
from analytics.panels import panels_render
from analytics.params import CUSTOM, RANGE_LABELS, AnalyticsParams, InvalidParamsError, default_range, parse
from common.formatting import duration_rounded, percent_text
from incidents.choices import RootCauseCategory, ServiceType

VIEW_PERMISSION = "incidents.view_incident"
DEFAULT_GROUP_BY = "priority"
GROUP_BY_LABELS = {
    "priority": "Priority",
    "service_type": "Service type",
    "root_cause": "Root cause",
    "team": "Team",
    "month": "Month",
}


def seconds(value: timedelta | None) -> float | None:
    return round(value.total_seconds(), 1) if value is not None else None


def group_label(group_by: str, value: Any) -> str:
    """What people read for a group key: labels for service types and root causes."""
    if group_by == "service_type" and value in ServiceType.values:
        return ServiceType(value).label
    if group_by == "root_cause":
        return RootCauseCategory(value).label if value in RootCauseCategory.values else "Unclassified"
    if isinstance(value, date):
        return value.strftime("%b %Y") if group_by == "month" else value.isoformat()
    return str(value)


# --- Cards ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    title: str
    value: str
    detail: str = ""
    previous: str = ""
    change: float | None = None
    lower_is_better: bool = False

    @property
    def arrow(self) -> str:
        if self.change is None:
            return ""
        return "▲" if self.change > 0 else ("▼" if self.change < 0 else "=")

    @property
    def tone(self) -> str:
        if not self.change:
            return "flat"
        better = self.change < 0 if self.lower_is_better else self.change > 0
        return "good" if better else "bad"

    @property
    def change_text(self) -> str:
        return "" if self.change is None else f"{abs(self.change):.0%}"


def cards(change: selectors.SummaryChange) -> list[Card]:
    now, before = change.current, change.previous

    def clock(title: str, name: str) -> Card:
        stats, old = getattr(now, name), getattr(before, name)
        return Card(
            title=title,
            value=duration_rounded(stats.mean),
            detail=(
                f"median {duration_rounded(stats.median)} · p90 {duration_rounded(stats.p90)} "
                f"· n={stats.count}"
            ),
            previous=duration_rounded(old.mean),
            change=svg.relative_change(seconds(stats.mean), seconds(old.mean)),
            lower_is_better=True,
        )

    def rate(title: str, name: str, detail: str, *, lower_is_better: bool = False) -> Card:
        value, old = getattr(now, name), getattr(before, name)
        return Card(
            title=title,
            value=percent_text(value),
            detail=detail,
            previous=percent_text(old),
            change=svg.relative_change(value, old),
            lower_is_better=lower_is_better,
        )

    return [
        clock("MTTD", "mttd"),
        clock("MTTA", "mtta"),
        clock("MTTR", "mttr"),
        Card(
            title="Frequency",
            value=f"{now.per_day:.2f}/day",
            detail=f"{now.incidents} incidents",
            previous=f"{before.per_day:.2f}/day",
            change=svg.relative_change(now.per_day, before.per_day),
            lower_is_better=True,
        ),
        rate("Auto-resolution", "auto_resolution_rate", f"{now.auto_resolved} of {now.resolved} resolved"),
        rate("SLA response", "sla_response_rate", "acknowledged within the priority's target"),
        rate("SLA resolution", "sla_resolution_rate", "resolved within the priority's target"),
        rate(
            "Repeat rate",
            "repeat_rate",
            f"{now.repeats} repeats, {now.reopened} reopened",
            lower_is_better=True,
        ),
        Card(
            title="Cost impact",
            value=money_text(now.cost.total),
            detail=(
                f"mean {money_text(now.cost.mean)} · {now.cost.hours:.1f} person-hours "
                f"· n={now.cost.incidents}"
            ),
            previous=money_text(before.cost.total),
            change=svg.relative_change(float(now.cost.total), float(before.cost.total)),
            lower_is_better=True,
        ),
    ]


def money_text(value: Decimal | None) -> str:
    return f"{value:,.2f} {settings.COST_CURRENCY}" if value is not None else "n/a"


# --- Charts and the tables behind them --------------------------------------------------------


@dataclass
class Chart:
    name: str
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    svg: str = ""
    display: list[dict[str, Any]] = field(default_factory=list)  # Formatted rows, for tables.
    export_url: str = ""


def incidents_chart(params: AnalyticsParams) -> Chart:
    points = selectors.incident_series(params.filters, bucket=params.bucket, group_by="priority")
    every = selectors.periods(params.filters, params.bucket)
    groups = sorted({p.group for p in points})
    values = {(p.period, p.group): p.incidents for p in points}
    mttr = {(p.period, p.group): p.mttr_mean for p in points}
    title = f"Incidents per {params.bucket} by priority"
    return Chart(
        name="incidents",
        title=title,
        header=["period", "priority", "incidents", "mttr_mean_seconds"],
        rows=[
            [period.isoformat(), group, values.get((period, group), 0), seconds(mttr.get((period, group)))]
            for period in every
            for group in groups
        ],
        svg=svg.stacked_bars(every, groups, values, title=title, bucket=params.bucket),
    )


def cost_chart(params: AnalyticsParams) -> Chart:
    """Cost impact per period, stacked by team (an incident under each of its services' teams)."""
    points = selectors.incident_series(params.filters, bucket=params.bucket, group_by="team")
    every = selectors.periods(params.filters, params.bucket)
    groups = sorted({p.group for p in points})
    values = {(p.period, p.group): float(p.cost.total) for p in points}
    title = f"Cost impact per {params.bucket} by team ({settings.COST_CURRENCY})"
    return Chart(
        name="cost",
        title=title,
        header=["period", "team", "cost", "hours"],
        rows=[
            [period.isoformat(), p.group, p.cost.total, round(p.cost.hours, 2)]
            for period in every
            for p in points
            if p.period == period
        ],
        svg=svg.stacked_bars(
            every, groups, values, title=title, bucket=params.bucket, unit=settings.COST_CURRENCY
        ),
    )


def mttr_trend_chart(params: AnalyticsParams) -> Chart:
    trend = selectors.monthly_trend(params.filters)
    title = "MTTR trend (mean, last 12 months)"
    return Chart(
        name="mttr_trend",
        title=title,
        header=["month", "incidents", "mttd_mean_seconds", "mtta_mean_seconds", "mttr_mean_seconds"],
        rows=[
            [
                m.month.isoformat(),
                m.incidents,
                seconds(m.mttd_mean),
                seconds(m.mtta_mean),
                seconds(m.mttr_mean),
            ]
            for m in trend
        ],
        svg=svg.line_chart(
            [
                (m.month.strftime("%b %y"), m.mttr_mean.total_seconds() / 60 if m.mttr_mean else None)
                for m in trend
            ],
            title=title,
            unit="min",
        ),
    )


GROUPED_HEADER = [
    "incidents",
    "mttr_mean_seconds",
    "mttr_median_seconds",
    "mttr_p90_seconds",
    "mtta_mean_seconds",
    "auto_resolution_rate",
    "cost_total",
]


def _grouped_rows(rows: list[selectors.GroupRow]) -> list[list[Any]]:
    return [
        [
            row.group.isoformat() if isinstance(row.group, date) else row.group,
            row.incidents,
            seconds(row.mttr.mean),
            seconds(row.mttr.median),
            seconds(row.mttr.p90),
            seconds(row.mtta.mean),
            row.auto_resolution_rate,
            row.cost.total,
        ]
        for row in rows
    ]


def _group_chart(params: AnalyticsParams, *, name: str, group_by: str, title: str) -> Chart:
    rows = selectors.grouped_metrics(params.filters, group_by)
    return Chart(
        name=name,
        title=title,
        header=[group_by, *GROUPED_HEADER],
        rows=_grouped_rows(rows),
        svg=svg.bar_chart([(group_label(group_by, row.group), row.incidents) for row in rows], title=title),
    )


def service_types_chart(params: AnalyticsParams) -> Chart:
    return _group_chart(
        params, name="service_types", group_by="service_type", title="Incidents by service type"
    )


def root_causes_chart(params: AnalyticsParams) -> Chart:
    return _group_chart(params, name="root_causes", group_by="root_cause", title="Incidents by root cause")


def peak_times_chart(params: AnalyticsParams) -> Chart:
    grid = selectors.peak_times(params.filters)
    title = f"Peak times (detection, {timezone.get_current_timezone_name()})"
    return Chart(
        name="peak_times",
        title=title,
        header=["weekday", "hour", "incidents"],
        rows=[[svg.WEEKDAYS[d], h, grid[d][h]] for d in range(7) for h in range(24)],
        svg=svg.heatmap(grid, title=title),
    )


def grouped_table(params: AnalyticsParams) -> Chart:
    """The grouped-metrics table for the chosen group-by (exported like a chart, drawn as a table)."""
    group_by = params.group_by or DEFAULT_GROUP_BY
    rows = selectors.grouped_metrics(params.filters, group_by)
    chart = Chart(
        name="grouped",
        title=f"By {GROUP_BY_LABELS[group_by].lower()}",
        header=[group_by, *GROUPED_HEADER],
        rows=_grouped_rows(rows),
    )
    chart.display = [
        {
            "label": group_label(group_by, row.group),
            "incidents": row.incidents,
            "mttr_mean": duration_rounded(row.mttr.mean),
            "mttr_median": duration_rounded(row.mttr.median),
            "mttr_p90": duration_rounded(row.mttr.p90),
            "mtta_mean": duration_rounded(row.mtta.mean),
            "mtta_median": duration_rounded(row.mtta.median),
            "auto": percent_text(row.auto_resolution_rate),
            "cost": money_text(row.cost.total),
        }
        for row in rows
    ]
    return chart


CHARTS: dict[str, Callable[[AnalyticsParams], Chart]] = {
    "incidents": incidents_chart,
    "mttr_trend": mttr_trend_chart,
    "cost": cost_chart,
    "service_types": service_types_chart,
    "root_causes": root_causes_chart,
    "peak_times": peak_times_chart,
    "grouped": grouped_table,
}


def export_csv(chart: Chart, params: AnalyticsParams) -> HttpResponse:
    filename = f"analytics-{chart.name}-{params.first_day.isoformat()}-{params.last_day.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(chart.header)
    writer.writerows([["" if value is None else value for value in row] for row in chart.rows])
    return response


# --- The page ---------------------------------------------------------------------------------


def filter_options(query: QueryDict) -> dict[str, Any]:
    """What the filter form offers, with the current choices marked. The range is the one the
    numbers are for: with none given, params' default (the form must not show its first option)."""

    def options(name: str, pairs, default: str | None = None) -> list[dict[str, Any]]:
        chosen = set(query.getlist(name)) or ({default} if default else set())
        return [{"value": value, "label": label, "selected": value in chosen} for value, label in pairs]

    choices = selectors.filter_choices()
    return {
        "ranges": options("range", RANGE_LABELS.items(), default=default_range(query)),
        "services": options("service", choices["services"]),
        "service_types": options("service_type", ServiceType.choices),
        "teams": options("team", choices["teams"]),
        "priorities": options("priority", choices["priorities"]),
        "root_causes": options("root_cause", [*RootCauseCategory.choices, ("unclassified", "Unclassified")]),
        "group_bys": options("group_by", [(g, GROUP_BY_LABELS[g]) for g in GROUP_BYS]),
        "buckets": options("bucket", [(b, b.capitalize()) for b in BUCKETS]),
        "start": query.get("start", ""),
        "end": query.get("end", ""),
        "include_drills": query.get("include_drills", "").lower() in ("true", "1", "yes", "on"),
        "custom": (query.get("range") or default_range(query)) == CUSTOM,
    }


def export_url(query: QueryDict, name: str) -> str:
    params = query.copy()
    params["export"] = name
    return "?" + params.urlencode()


def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    query = request.GET.copy()
    export = query.pop("export", [None])[-1]
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Analytics",
        "options": filter_options(query),
        "errors": {},
    }
    try:
        params = parse(query)
    except InvalidParamsError as exc:
        context["errors"] = exc.errors
        return TemplateResponse(request, "admin/analytics/dashboard.html", context, status=400)
    if export is not None:
        if export not in CHARTS:
            context["errors"] = {
                "export": [f'Unknown chart "{export}"; expected one of {", ".join(CHARTS)}.']
            }
            return TemplateResponse(request, "admin/analytics/dashboard.html", context, status=400)
        return export_csv(CHARTS[export](params), params)

    chart_list = [
        CHARTS[name](params) for name in ("incidents", "mttr_trend", "service_types", "root_causes", "cost")
    ]
    peak = peak_times_chart(params)
    grouped = grouped_table(params)
    for chart in [*chart_list, peak, grouped]:
        chart.export_url = export_url(query, chart.name)
    effectiveness = selectors.action_effectiveness(params.filters)
    follow = selectors.postmortem_follow_through(params.filters)
    context.update(
        params=params,
        cards=cards(selectors.summary_with_change(params.filters)),
        previous_first_day=timezone.localtime(params.filters.previous().start).date(),
        previous_last_day=params.first_day - timedelta(days=1),
        charts=chart_list,
        peak=peak,
        grouped=grouped,
        group_by_label=GROUP_BY_LABELS[params.group_by or DEFAULT_GROUP_BY],
        actions=[
            {
                "name": stats.action,
                "runs": stats.runs,
                "succeeded": stats.succeeded,
                "success_rate": percent_text(stats.success_rate),
                "mean_duration": duration_rounded(stats.mean_duration),
                "unreliable": selectors.action_unreliable(stats),
            }
            for stats in effectiveness.actions
        ],
        mttr_with_automation=effectiveness.mttr_with_automation,
        mttr_without_automation=effectiveness.mttr_without_automation,
        mttr_with_text=duration_rounded(effectiveness.mttr_with_automation.mean),
        mttr_without_text=duration_rounded(effectiveness.mttr_without_automation.mean),
        follow=follow,
        follow_rate=percent_text(follow.completion_rate),
        recommendations=selectors.recommendations(params.filters),
        extra_panels=panels_render(params),
    )
    return TemplateResponse(request, "admin/analytics/dashboard.html", context)
