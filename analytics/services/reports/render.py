"""The email for one period, rendered once: text, HTML with its charts, PNG images and CSV."""

import base64
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string

from analytics import selectors
from analytics.filters import Filters
from analytics.models import Report, ReportGroupBy, ReportMetric, ReportType
from analytics.services.reports.periods import period_label, previous_period, report_period
from analytics.services.reports.schedule import report_parameters
from common.formatting import duration_rounded, percent_text
from incidents.choices import RootCauseCategory, ServiceType

TOP_ROOT_CAUSES = 5


@dataclass(frozen=True)
class RenderedReport:
    """Everything the email contains; `images` maps Content-IDs (without <>) to PNG bytes."""

    subject: str
    text: str
    html: str
    images: dict[str, bytes] = field(default_factory=dict)
    csv_name: str = "report.csv"
    csv_bytes: bytes = b""

    def html_with_data_uris(self) -> str:
        """The HTML as the admin and the API preview it: each cid: reference replaced by the same
        image as a data: URI."""
        html = self.html
        for cid, png in self.images.items():
            html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
        return html


def _seconds(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds():.0f}"


def _change(current: Any, previous: Any, *, lower_is_better: bool, rate: bool = False) -> dict[str, Any]:
    """The change against the previous period as text, and whether it is an improvement."""
    if isinstance(current, timedelta):
        current = current.total_seconds()
    if isinstance(previous, timedelta):
        previous = previous.total_seconds()
    if current is None or previous is None:
        return {"text": "no comparison", "tone": "neutral"}
    if rate:
        delta = (current - previous) * 100
        text = f"{delta:+.0f} pts"
    elif previous == 0:
        delta = current
        text = "new" if current else "no change"
    else:
        delta = (current - previous) / previous * 100
        text = f"{delta:+.0f}%"
    if abs(delta) < 0.5:
        return {"text": "no change", "tone": "neutral"}
    better = (delta < 0) if lower_is_better else (delta > 0)
    return {"text": text, "tone": "better" if better else "worse"}


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f} {settings.COST_CURRENCY}"


def _group_label(group_by: str, value: Any) -> str:
    if isinstance(value, date):
        return value.strftime("%b %Y") if group_by == ReportGroupBy.MONTH else value.isoformat()
    if group_by == ReportGroupBy.ROOT_CAUSE:
        return RootCauseCategory(value).label if value in RootCauseCategory.values else "Unclassified"
    if group_by == ReportGroupBy.SERVICE_TYPE and value in ServiceType.values:
        return ServiceType(value).label
    if value == "none":
        return "(none)"
    return str(value)


def report_filters(report: Report, start: datetime, end: datetime) -> Filters:
    narrowing = (report.parameters or {}).get("filters") or {}
    return Filters(
        start=start,
        end=end,
        services=tuple(narrowing.get("services") or ()),
        service_types=tuple(narrowing.get("service_types") or ()),
        teams=tuple(narrowing.get("teams") or ()),
        priorities=tuple(narrowing.get("priorities") or ()),
        root_causes=tuple(narrowing.get("root_causes") or ()),
        include_drills=bool(narrowing.get("include_drills")),
    )


def _cid(report: Report, start: datetime, name: str) -> str:
    return f"{name}-{report.pk}-{start:%Y%m%d}@mitigate"


def report_render(report: Report, period: tuple[datetime, datetime]) -> RenderedReport:
    """The email for one period: subject, text, HTML (charts referenced as cid:), the PNG charts
    and the CSV of the tables. The same report and period give the same content."""
    # Imported here: matplotlib loads only when a report renders, not with every Django process.
    from analytics.charts import png

    start, end = period
    parameters = report_parameters(type=report.type, parameters=report.parameters)
    metrics = set(parameters["metrics"])
    group_by = parameters["group_by"]
    filters = report_filters(report, start, end)
    label = period_label(start, end)
    rows: list[list[Any]] = []  # CSV: section, group, metric, value
    images: dict[str, bytes] = {}
    context: dict[str, Any] = {
        "report": report,
        "type_label": ReportType(report.type).label,
        "period_label": label,
        "group_by_label": ReportGroupBy(group_by).label,
        "metrics": metrics,
        "site_url": settings.SITE_URL,
        "filters": {k: v for k, v in parameters["filters"].items() if v},
    }

    if ReportMetric.SUMMARY in metrics:
        previous_start, previous_end = previous_period(parameters["range"], start, end)
        current = selectors.summary(filters)
        previous = selectors.summary(filters.with_range(previous_start, previous_end))
        cards = [
            ("Incidents", current.incidents, previous.incidents, str(current.incidents), True, False),
            (
                "MTTD",
                current.mttd.mean,
                previous.mttd.mean,
                duration_rounded(current.mttd.mean, empty="-"),
                True,
                False,
            ),
            (
                "MTTA",
                current.mtta.mean,
                previous.mtta.mean,
                duration_rounded(current.mtta.mean, empty="-"),
                True,
                False,
            ),
            (
                "MTTR",
                current.mttr.mean,
                previous.mttr.mean,
                duration_rounded(current.mttr.mean, empty="-"),
                True,
                False,
            ),
            (
                "Auto-resolved",
                current.auto_resolution_rate,
                previous.auto_resolution_rate,
                percent_text(current.auto_resolution_rate, empty="-"),
                False,
                True,
            ),
            (
                "SLA response met",
                current.sla_response_rate,
                previous.sla_response_rate,
                percent_text(current.sla_response_rate, empty="-"),
                False,
                True,
            ),
            (
                "SLA resolution met",
                current.sla_resolution_rate,
                previous.sla_resolution_rate,
                percent_text(current.sla_resolution_rate, empty="-"),
                False,
                True,
            ),
            (
                "Repeat rate",
                current.repeat_rate,
                previous.repeat_rate,
                percent_text(current.repeat_rate, empty="-"),
                True,
                True,
            ),
        ]
        context["cards"] = [
            {
                "label": name,
                "value": text,
                "change": _change(value, before, lower_is_better=lower, rate=rate),
            }
            for name, value, before, text, lower, rate in cards
        ]
        context["previous_label"] = period_label(previous_start, previous_end)
        context["mttr"] = current.mttr
        context["mttr_text"] = {
            "median": duration_rounded(current.mttr.median, empty="-"),
            "p90": duration_rounded(current.mttr.p90, empty="-"),
        }
        context["by_priority"] = sorted(current.by_priority.items())
        for name, current_value, _before, *_ in cards:
            value = current_value.total_seconds() if isinstance(current_value, timedelta) else current_value
            rows.append(["summary", "", name, "" if value is None else value])
        for stat in ("median", "p90"):
            rows.append(["summary", "", f"MTTR {stat}", _seconds(getattr(current.mttr, stat))])
        for code, count in context["by_priority"]:
            rows.append(["by_priority", code, "incidents", count])

        bucket = "day" if (end - start) <= timedelta(days=45) else "week"
        series = selectors.incident_series(filters, bucket=bucket, group_by="priority")
        days = selectors.periods(filters, bucket)
        per_group: dict[str, dict[date, int]] = {}
        for point in series:
            per_group.setdefault(point.group, {})[point.period] = point.incidents
        stacked = {group: [counts.get(d, 0) for d in days] for group, counts in sorted(per_group.items())}
        cid = _cid(report, start, "incidents")
        images[cid] = png.stacked_bars(f"Incidents per {bucket} by priority", days, stacked)
        context["incidents_chart"] = f"cid:{cid}"

    if ReportMetric.GROUPED in metrics:
        grouped = selectors.grouped_metrics(filters, group_by)
        if group_by == ReportGroupBy.MONTH:
            grouped = sorted(grouped, key=lambda r: r.group)
        context["grouped"] = [
            {
                "label": _group_label(group_by, row.group),
                "incidents": row.incidents,
                "mttr_mean": duration_rounded(row.mttr.mean, empty="-"),
                "mttr_median": duration_rounded(row.mttr.median, empty="-"),
                "mttr_p90": duration_rounded(row.mttr.p90, empty="-"),
                "mtta_mean": duration_rounded(row.mtta.mean, empty="-"),
                "auto": percent_text(row.auto_resolution_rate, empty="-"),
            }
            for row in grouped
        ]
        for row in grouped:
            key = row.group.isoformat() if isinstance(row.group, date) else str(row.group)
            rows.append([f"by_{group_by}", key, "incidents", row.incidents])
            rows.append([f"by_{group_by}", key, "mttr_mean_seconds", _seconds(row.mttr.mean)])
            rows.append([f"by_{group_by}", key, "mttr_median_seconds", _seconds(row.mttr.median)])
            rows.append([f"by_{group_by}", key, "mttr_p90_seconds", _seconds(row.mttr.p90)])
            rows.append([f"by_{group_by}", key, "mtta_mean_seconds", _seconds(row.mtta.mean)])
            rate = row.auto_resolution_rate
            rows.append([f"by_{group_by}", key, "auto_resolution_rate", "" if rate is None else rate])
        if grouped:
            cid = _cid(report, start, "grouped")
            images[cid] = png.horizontal_bars(
                f"Incidents by {ReportGroupBy(group_by).label.lower()}",
                [r["label"] for r in context["grouped"][:10]],
                [r.incidents for r in grouped[:10]],
            )
            context["grouped_chart"] = f"cid:{cid}"

    if ReportMetric.TRENDS in metrics:
        trend = selectors.monthly_trend(filters)
        context["trend"] = [
            {
                "month": t.month.strftime("%b %Y"),
                "incidents": t.incidents,
                "mtta": duration_rounded(t.mtta_mean, empty="-"),
                "mttr": duration_rounded(t.mttr_mean, empty="-"),
            }
            for t in trend
        ]
        for t in trend:
            rows.append(["monthly_trend", t.month.isoformat(), "incidents", t.incidents])
            rows.append(["monthly_trend", t.month.isoformat(), "mtta_mean_seconds", _seconds(t.mtta_mean)])
            rows.append(["monthly_trend", t.month.isoformat(), "mttr_mean_seconds", _seconds(t.mttr_mean)])
        cid = _cid(report, start, "mttr")
        images[cid] = png.line(
            "Mean time to resolve, by month",
            [t.month for t in trend],
            [None if t.mttr_mean is None else round(t.mttr_mean.total_seconds() / 3600, 2) for t in trend],
            unit="hours",
        )
        context["mttr_chart"] = f"cid:{cid}"

    if ReportMetric.ROOT_CAUSES in metrics:
        causes = selectors.grouped_metrics(filters, "root_cause")
        shares = selectors.root_cause_shares({r.group: r.incidents for r in causes})
        context["root_causes"] = [
            {
                "label": _group_label("root_cause", r.group),
                "incidents": r.incidents,
                "share": "" if shares[r.group] is None else percent_text(shares[r.group], empty="-"),
                "mttr": duration_rounded(r.mttr.mean, empty="-"),
            }
            for r in causes[:TOP_ROOT_CAUSES]
        ]
        for r in causes:
            rows.append(["root_causes", r.group, "incidents", r.incidents])

    if ReportMetric.ACTION_ITEMS in metrics:
        follow = selectors.postmortem_follow_through(filters)
        context["follow"] = follow
        context["follow_rate"] = percent_text(follow.completion_rate, empty="-")
        for name in (
            "p1_p2_resolved",
            "postmortems_completed",
            "items_done",
            "items_open",
            "items_overdue",
            "items_wont_do",
        ):
            rows.append(["action_items", "", name, getattr(follow, name)])

    if ReportMetric.AUTOMATION in metrics:
        effectiveness = selectors.action_effectiveness(filters)
        context["automation"] = {
            "with": duration_rounded(effectiveness.mttr_with_automation.mean, empty="-"),
            "without": duration_rounded(effectiveness.mttr_without_automation.mean, empty="-"),
            "actions": [
                {
                    "name": a.action,
                    "runs": a.runs,
                    "success": percent_text(a.success_rate, empty="-"),
                    "duration": duration_rounded(a.mean_duration, empty="-"),
                }
                for a in effectiveness.actions
            ],
        }
        for a in effectiveness.actions:
            rows.append(["automation", a.action, "runs", a.runs])
            rows.append(
                ["automation", a.action, "success_rate", "" if a.success_rate is None else a.success_rate]
            )

    if ReportMetric.COST in metrics:
        previous_start, previous_end = previous_period(parameters["range"], start, end)
        cost = selectors.cost_summary(filters)
        before = selectors.cost_summary(filters.with_range(previous_start, previous_end))
        by_group = [row for row in selectors.grouped_metrics(filters, group_by) if row.cost.incidents]
        context["cost"] = {
            "total": _money(cost.total),
            "previous": _money(before.total),
            "change": _change(float(cost.total), float(before.total), lower_is_better=True),
            "mean": _money(cost.mean),
            "hours": f"{cost.hours:.1f}",
            "incidents": cost.incidents,
            "groups": [
                {
                    "label": _group_label(group_by, row.group),
                    "total": _money(row.cost.total),
                    "hours": f"{row.cost.hours:.1f}",
                    "incidents": row.cost.incidents,
                }
                for row in sorted(by_group, key=lambda r: (-r.cost.total, str(r.group)))
            ],
        }
        rows.append(["cost", "", "total", cost.total])
        rows.append(["cost", "", "mean", "" if cost.mean is None else cost.mean])
        rows.append(["cost", "", "person_hours", round(cost.hours, 2)])
        for row in by_group:
            key = row.group.isoformat() if isinstance(row.group, date) else str(row.group)
            rows.append([f"cost_by_{group_by}", key, "total", row.cost.total])
            rows.append([f"cost_by_{group_by}", key, "person_hours", round(row.cost.hours, 2)])

    if ReportMetric.RECOMMENDATIONS in metrics:
        context["recommendations"] = selectors.recommendations(filters)
        for r in context["recommendations"]:
            rows.append(["recommendations", r.code, "message", r.message])

    subject = " ".join(f"{report.name}: {label}".split())
    html = render_to_string("analytics/emails/report.html", context | {"subject": subject})
    text = render_to_string("analytics/emails/report.txt", context | {"subject": subject})

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "group", "metric", "value"])
    writer.writerows(rows)
    slug = "-".join("".join(c if c.isalnum() else " " for c in report.name.lower()).split()) or "report"
    return RenderedReport(
        subject=subject,
        text=text,
        html=html,
        images=images,
        csv_name=f"{slug}-{start.astimezone(ZoneInfo(settings.TIME_ZONE)):%Y-%m-%d}.csv",
        csv_bytes=out.getvalue().encode("utf-8"),
    )


def report_preview(*, report: Report, now: datetime | None = None) -> RenderedReport:
    """What the email for the current period contains (reads only)."""
    return report_render(report, report_period(report, now))
