"""Scheduled email reports: the one write path for the admin, the API and the tasks.

A report's schedule is a django-celery-beat PeriodicTask (with its CrontabSchedule, in TIME_ZONE)
that calls analytics.tasks.send_scheduled_report; report_save keeps it in step with the report.
A send claims the ReportRun row of its period first (unique per report and period), so a repeated
task, a retry after a success or a second "send now" sends nothing; a failed run is claimed again
by the next attempt. The email is rendered once: text, HTML with its charts as inline PNG images
(multipart/related, referenced by cid:), and a CSV of the tables."""

import base64
import csv
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from analytics import selectors
from analytics.filters import UNCLASSIFIED, Filters
from analytics.models import (
    Report,
    ReportGroupBy,
    ReportMetric,
    ReportRange,
    ReportRun,
    ReportType,
    RunStatus,
)
from common.actor import Actor
from common.exceptions import ApplicationError, ConflictError
from incidents.choices import RootCauseCategory, ServiceType
from incidents.models import Priority, Service

logger = logging.getLogger(__name__)

TASK_NAME = "analytics.tasks.send_scheduled_report"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
# A run still "sending" after this long died with its worker: the next attempt may take it over.
STALE_AFTER = timedelta(minutes=15)
FILTER_KEYS = ("services", "service_types", "teams", "priorities", "root_causes", "include_drills")
PARAMETER_KEYS = ("range", "group_by", "metrics", "filters")
TOP_ROOT_CAUSES = 5

# What each type shows when its parameters do not say.
TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    ReportType.INCIDENT_SUMMARY: {
        "range": ReportRange.PREVIOUS_MONTH,
        "group_by": ReportGroupBy.PRIORITY,
        "metrics": [
            ReportMetric.SUMMARY,
            ReportMetric.GROUPED,
            ReportMetric.ROOT_CAUSES,
            ReportMetric.TRENDS,
            ReportMetric.ACTION_ITEMS,
            ReportMetric.RECOMMENDATIONS,
        ],
    },
    ReportType.TREND_ANALYSIS: {
        "range": ReportRange.LAST_90_DAYS,
        "group_by": ReportGroupBy.MONTH,
        "metrics": [
            ReportMetric.SUMMARY,
            ReportMetric.TRENDS,
            ReportMetric.GROUPED,
            ReportMetric.ROOT_CAUSES,
            ReportMetric.RECOMMENDATIONS,
        ],
    },
    ReportType.SERVICE_PERFORMANCE: {
        "range": ReportRange.LAST_30_DAYS,
        "group_by": ReportGroupBy.SERVICE_TYPE,
        "metrics": [
            ReportMetric.SUMMARY,
            ReportMetric.GROUPED,
            ReportMetric.AUTOMATION,
            ReportMetric.RECOMMENDATIONS,
        ],
    },
    ReportType.TEAM_METRICS: {
        "range": ReportRange.LAST_30_DAYS,
        "group_by": ReportGroupBy.TEAM,
        "metrics": [ReportMetric.SUMMARY, ReportMetric.GROUPED, ReportMetric.ACTION_ITEMS],
    },
}
DEFAULT_SCHEDULE = "0 7 1 * *"


class ReportRunningError(ConflictError):
    """Another worker is sending this report for this period right now."""

    code = "report_running"


class ReportDeliveryError(ApplicationError):
    """Rendering or sending failed; the run is recorded as failed and the next attempt retries it."""

    code = "delivery_failed"
    http_status = 502

    def __init__(self, message: str, *, run: ReportRun, code: str | None = None):
        super().__init__(message, code=code)
        self.run = run


# --- Parameters and schedules ----------------------------------------------------------------------


def _string_list(value: Any, name: str, errors: list[str]) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(f"{name} must be a list of non-empty strings.")
        return []
    return list(dict.fromkeys(v.strip() for v in value))


def report_parameters(*, type: str, parameters: Any) -> dict[str, Any]:
    """The parameters checked and completed with the type's defaults (a ValidationError on
    `parameters` says everything that is wrong)."""
    if type not in ReportType.values:
        raise ValidationError({"type": f"Unknown report type {type!r}."})
    if parameters in (None, ""):
        parameters = {}
    if not isinstance(parameters, dict):
        raise ValidationError({"parameters": "Parameters must be an object."})
    defaults = TYPE_DEFAULTS[type]
    errors: list[str] = []
    unknown = sorted(set(parameters) - set(PARAMETER_KEYS))
    if unknown:
        errors.append(f"Unknown parameters: {', '.join(unknown)}.")

    range_ = parameters.get("range") or defaults["range"]
    if range_ not in ReportRange.values:
        errors.append(f"range must be one of {', '.join(ReportRange.values)}.")
    group_by = parameters.get("group_by") or defaults["group_by"]
    if group_by not in ReportGroupBy.values:
        errors.append(f"group_by must be one of {', '.join(ReportGroupBy.values)}.")
    metrics = parameters.get("metrics") or list(defaults["metrics"])
    if not isinstance(metrics, list) or any(m not in ReportMetric.values for m in metrics):
        errors.append(f"metrics must be a list of: {', '.join(ReportMetric.values)}.")
        metrics = []
    # In the order the email shows them.
    metrics = [m for m in ReportMetric.values if m in metrics]

    raw_filters = parameters.get("filters") or {}
    filters: dict[str, Any] = {}
    if not isinstance(raw_filters, dict):
        errors.append("filters must be an object.")
        raw_filters = {}
    unknown = sorted(set(raw_filters) - set(FILTER_KEYS))
    if unknown:
        errors.append(f"Unknown filters: {', '.join(unknown)}.")
    for key in FILTER_KEYS[:-1]:
        filters[key] = _string_list(raw_filters.get(key), key, errors)
    include_drills = raw_filters.get("include_drills", False)
    if not isinstance(include_drills, bool):
        errors.append("include_drills must be true or false.")
    filters["include_drills"] = include_drills is True

    checks = {
        "service_types": set(ServiceType.values),
        "root_causes": {*RootCauseCategory.values, UNCLASSIFIED},
    }
    for key, allowed in checks.items():
        bad = [v for v in filters[key] if v not in allowed]
        if bad:
            errors.append(f"Unknown {key}: {', '.join(bad)}.")
    if filters["services"]:
        known = set(Service.objects.filter(slug__in=filters["services"]).values_list("slug", flat=True))
        bad = [v for v in filters["services"] if v not in known]
        if bad:
            errors.append(f"Unknown services: {', '.join(bad)}.")
    if filters["priorities"]:
        known = set(Priority.objects.filter(code__in=filters["priorities"]).values_list("code", flat=True))
        bad = [v for v in filters["priorities"] if v not in known]
        if bad:
            errors.append(f"Unknown priorities: {', '.join(bad)}.")
    if errors:
        raise ValidationError({"parameters": errors})
    return {"range": range_, "group_by": group_by, "metrics": metrics, "filters": filters}


def crontab_fields(schedule: str | dict[str, Any]) -> dict[str, str]:
    """A crontab as its five fields, from "0 7 1 * *" or a dict of minute/hour/day_of_month/
    month_of_year/day_of_week (missing ones are "*"); invalid values raise a ValidationError."""
    if isinstance(schedule, str):
        parts = schedule.split()
        if len(parts) != 5:
            raise ValidationError(
                {"schedule": "A crontab has five fields: minute hour day-of-month month day-of-week."}
            )
        fields = dict(zip(CRON_FIELDS, parts, strict=True))
    elif isinstance(schedule, dict):
        unknown = sorted(set(schedule) - set(CRON_FIELDS))
        if unknown:
            raise ValidationError({"schedule": f"Unknown crontab fields: {', '.join(unknown)}."})
        fields = {name: str(schedule.get(name, "*")).strip() or "*" for name in CRON_FIELDS}
    else:
        raise ValidationError({"schedule": "Give a crontab expression such as 0 7 1 * *."})
    try:
        crontab(**fields)
    except (ValueError, TypeError) as exc:
        raise ValidationError({"schedule": f"Invalid crontab: {exc}"}) from exc
    return fields


def crontab_text(task: PeriodicTask | None) -> str:
    if task is None or task.crontab is None:
        return ""
    return " ".join(str(getattr(task.crontab, name)) for name in CRON_FIELDS)


def _recipient_addresses(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError({"extra_recipients": "Give a list of email addresses."})
    out, bad = [], []
    for address in value:
        address = str(address).strip()
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
        else:
            out.append(address)
    if bad:
        raise ValidationError({"extra_recipients": f"Not email addresses: {', '.join(bad)}."})
    return list(dict.fromkeys(out))


def _task_name(report: Report) -> str:
    return f"Report #{report.pk}: {report.name}"[:200]


def _schedule_save(report: Report, fields: dict[str, str] | None) -> PeriodicTask:
    """Create or update the report's PeriodicTask (saved through the model, so beat's change
    tracking sees it). Crontab rows are shared by equal schedules and never edited in place."""
    task = report.schedule
    if fields is None:
        fields = crontab_fields(crontab_text(task) or DEFAULT_SCHEDULE)
    schedule = CrontabSchedule.objects.filter(**fields, timezone=settings.TIME_ZONE).order_by("pk").first()
    if schedule is None:
        schedule = CrontabSchedule.objects.create(**fields, timezone=settings.TIME_ZONE)
    if task is None:
        task = PeriodicTask(task=TASK_NAME)
    task.name = _task_name(report)
    task.task = TASK_NAME
    task.crontab = schedule
    task.interval = task.solar = task.clocked = None
    task.args = json.dumps([report.pk])
    task.kwargs = "{}"
    task.enabled = report.enabled
    task.description = f"Sends the analytics report {report.name!r} for its period."
    task.save()
    return task


@transaction.atomic
def report_save(
    *,
    by: Actor,
    report: Report | None = None,
    data: dict[str, Any],
    recipient_users: list | None = None,
    schedule: str | dict[str, Any] | None = None,
) -> Report:
    """Create a report (report=None) or update one with the keys `data` has (name, type,
    parameters, extra_recipients, enabled). `recipient_users` replaces the users when given;
    `schedule` replaces the crontab when given (a new report without one gets 0 7 1 * *)."""
    creating = report is None
    by.require("analytics.add_report" if creating else "analytics.change_report", "manage reports")
    unknown = sorted(set(data) - {"name", "type", "parameters", "extra_recipients", "enabled"})
    if unknown:
        raise ValidationError({k: "Unknown field." for k in unknown})
    if creating:
        report = Report(created_by=by.user)
    else:
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("schedule__crontab")
            .get(pk=report.pk)
        )

    if "name" in data:
        report.name = " ".join(str(data["name"]).split())
    if "type" in data:
        report.type = data["type"]
    if "enabled" in data:
        report.enabled = bool(data["enabled"])
    if "extra_recipients" in data:
        report.extra_recipients = _recipient_addresses(data["extra_recipients"])
    parameters = data.get("parameters", report.parameters if not creating else {})
    if "type" in data and "parameters" not in data and not creating:
        # A new type keeps the period and filters but takes its own sections and grouping.
        parameters = {"range": report.parameters.get("range"), "filters": report.parameters.get("filters")}
    report.parameters = report_parameters(type=report.type, parameters=parameters)
    fields = crontab_fields(schedule) if schedule is not None else None

    if not report.name:
        raise ValidationError({"name": "A report needs a name."})
    clash = Report.objects.filter(name__iexact=report.name).exclude(pk=report.pk).exists()
    if clash:
        raise ValidationError({"name": "Another report has this name."})
    report.full_clean(exclude=["schedule", "parameters", "extra_recipients", "created_by"])
    report.save()
    report.schedule = _schedule_save(report, fields)
    report.save(update_fields=["schedule", "updated_at"])
    if recipient_users is not None:
        report.recipients.set(recipient_users)
    return report


@transaction.atomic
def report_delete(*, by: Actor, report: Report) -> None:
    """Delete the report with its runs and its PeriodicTask."""
    by.require("analytics.delete_report", "delete reports")
    task = report.schedule
    report.delete()
    if task is not None:
        task.delete()


# --- Periods ---------------------------------------------------------------------------------------


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _month_start(day: date, back: int = 0) -> date:
    first = day.replace(day=1)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def report_period(report: Report, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The half-open period [start, end) the report covers when run at `now`, in whole days of
    TIME_ZONE: previous_month is the first of last month 00:00 to the first of this month 00:00."""
    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    range_ = (report.parameters or {}).get("range") or TYPE_DEFAULTS[report.type]["range"]
    if range_ == ReportRange.PREVIOUS_MONTH:
        return _local_midnight(_month_start(today, 1)), _local_midnight(_month_start(today))
    if range_ == ReportRange.PREVIOUS_WEEK:
        monday = today - timedelta(days=today.weekday())
        return _local_midnight(monday - timedelta(days=7)), _local_midnight(monday)
    days = {ReportRange.LAST_7_DAYS: 7, ReportRange.LAST_30_DAYS: 30, ReportRange.LAST_90_DAYS: 90}[range_]
    return _local_midnight(today - timedelta(days=days)), _local_midnight(today)


def _previous_period(range_: str, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if range_ == ReportRange.PREVIOUS_MONTH:
        local = start.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
        return _local_midnight(_month_start(local, 1)), start
    return start - (end - start), start


def period_label(start: datetime, end: datetime) -> str:
    tz = ZoneInfo(settings.TIME_ZONE)
    first = start.astimezone(tz).date()
    last = (end.astimezone(tz) - timedelta(microseconds=1)).date()
    if first.day == 1 and (last + timedelta(days=1)).day == 1 and first.month == last.month:
        return first.strftime("%B %Y")
    if first == last:
        return f"{first.day} {first:%b %Y}"
    return f"{first.day} {first:%b %Y} to {last.day} {last:%b %Y}"


# --- Rendering -------------------------------------------------------------------------------------


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


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    minutes = value.total_seconds() / 60
    if minutes < 1:
        return f"{value.total_seconds():.0f} s"
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


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
    from analytics.services import charts

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
        previous_start, previous_end = _previous_period(parameters["range"], start, end)
        current = selectors.summary(filters)
        previous = selectors.summary(filters.with_range(previous_start, previous_end))
        cards = [
            ("Incidents", current.incidents, previous.incidents, str(current.incidents), True, False),
            ("MTTD", current.mttd.mean, previous.mttd.mean, _duration(current.mttd.mean), True, False),
            ("MTTA", current.mtta.mean, previous.mtta.mean, _duration(current.mtta.mean), True, False),
            ("MTTR", current.mttr.mean, previous.mttr.mean, _duration(current.mttr.mean), True, False),
            (
                "Auto-resolved",
                current.auto_resolution_rate,
                previous.auto_resolution_rate,
                _percent(current.auto_resolution_rate),
                False,
                True,
            ),
            (
                "SLA response met",
                current.sla_response_rate,
                previous.sla_response_rate,
                _percent(current.sla_response_rate),
                False,
                True,
            ),
            (
                "SLA resolution met",
                current.sla_resolution_rate,
                previous.sla_resolution_rate,
                _percent(current.sla_resolution_rate),
                False,
                True,
            ),
            (
                "Repeat rate",
                current.repeat_rate,
                previous.repeat_rate,
                _percent(current.repeat_rate),
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
            "median": _duration(current.mttr.median),
            "p90": _duration(current.mttr.p90),
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
        images[cid] = charts.stacked_bars(f"Incidents per {bucket} by priority", days, stacked)
        context["incidents_chart"] = f"cid:{cid}"

    if ReportMetric.GROUPED in metrics:
        grouped = selectors.grouped_metrics(filters, group_by)
        if group_by == ReportGroupBy.MONTH:
            grouped = sorted(grouped, key=lambda r: r.group)
        context["grouped"] = [
            {
                "label": _group_label(group_by, row.group),
                "incidents": row.incidents,
                "mttr_mean": _duration(row.mttr.mean),
                "mttr_median": _duration(row.mttr.median),
                "mttr_p90": _duration(row.mttr.p90),
                "mtta_mean": _duration(row.mtta.mean),
                "auto": _percent(row.auto_resolution_rate),
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
            images[cid] = charts.horizontal_bars(
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
                "mtta": _duration(t.mtta_mean),
                "mttr": _duration(t.mttr_mean),
            }
            for t in trend
        ]
        for t in trend:
            rows.append(["monthly_trend", t.month.isoformat(), "incidents", t.incidents])
            rows.append(["monthly_trend", t.month.isoformat(), "mtta_mean_seconds", _seconds(t.mtta_mean)])
            rows.append(["monthly_trend", t.month.isoformat(), "mttr_mean_seconds", _seconds(t.mttr_mean)])
        cid = _cid(report, start, "mttr")
        images[cid] = charts.line(
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
                "share": "" if shares[r.group] is None else _percent(shares[r.group]),
                "mttr": _duration(r.mttr.mean),
            }
            for r in causes[:TOP_ROOT_CAUSES]
        ]
        for r in causes:
            rows.append(["root_causes", r.group, "incidents", r.incidents])

    if ReportMetric.ACTION_ITEMS in metrics:
        follow = selectors.postmortem_follow_through(filters)
        context["follow"] = follow
        context["follow_rate"] = _percent(follow.completion_rate)
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
            "with": _duration(effectiveness.mttr_with_automation.mean),
            "without": _duration(effectiveness.mttr_without_automation.mean),
            "actions": [
                {
                    "name": a.action,
                    "runs": a.runs,
                    "success": _percent(a.success_rate),
                    "duration": _duration(a.mean_duration),
                }
                for a in effectiveness.actions
            ],
        }
        for a in effectiveness.actions:
            rows.append(["automation", a.action, "runs", a.runs])
            rows.append(
                ["automation", a.action, "success_rate", "" if a.success_rate is None else a.success_rate]
            )

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


def report_email(rendered: RenderedReport, recipients: list[str]) -> EmailMessage:
    """The message: multipart/mixed [ multipart/alternative [ text/plain, multipart/related
    [ text/html, image/png (Content-ID)... ] ], text/csv attachment ]. Mail clients show the HTML
    with its images inline and the CSV as an attachment."""
    related = MIMEMultipart("related")
    related.attach(MIMEText(rendered.html, "html", "utf-8"))
    for cid, png in rendered.images.items():
        image = MIMEImage(png, "png")
        image["Content-ID"] = f"<{cid}>"
        image.add_header("Content-Disposition", "inline", filename=cid.split("@")[0] + ".png")
        related.attach(image)
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(rendered.text, "plain", "utf-8"))
    alternative.attach(related)
    message = EmailMessage(
        subject=rendered.subject, body="", from_email=settings.DEFAULT_FROM_EMAIL, to=recipients
    )
    message.attach(alternative)
    message.attach(rendered.csv_name, rendered.csv_bytes, "text/csv")
    return message


def report_recipients(report: Report) -> list[str]:
    users = get_user_model().objects.filter(pk__in=report.recipients.values("pk"), is_active=True)
    addresses = [u.email for u in users.exclude(email="").order_by("pk")] + list(
        report.extra_recipients or []
    )
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(address.lower(), address)
    return list(seen.values())


# --- Sending ---------------------------------------------------------------------------------------


def _claim(report: Report, start: datetime, end: datetime, by: Actor | None) -> tuple[ReportRun, bool]:
    """Take the period's run for this attempt. Returns (run, claimed): not claimed when it was
    sent already; ReportRunningError when another attempt is sending it."""
    now = timezone.now()
    with transaction.atomic():
        run = (
            ReportRun.objects.select_for_update()
            .filter(report=report, period_start=start, period_end=end)
            .first()
        )
        if run is None:
            try:
                with transaction.atomic():
                    run = ReportRun.objects.create(
                        report=report,
                        period_start=start,
                        period_end=end,
                        status=RunStatus.PENDING,
                        started_at=now,
                        attempts=1,
                        requested_by=by.user if by else None,
                    )
                return run, True
            except IntegrityError:
                run = ReportRun.objects.select_for_update().get(
                    report=report, period_start=start, period_end=end
                )
        if run.status == RunStatus.SENT:
            return run, False
        if run.status == RunStatus.PENDING and run.started_at and now - run.started_at < STALE_AFTER:
            raise ReportRunningError(
                "This report is being sent for this period right now.", extra={"run": run.pk}
            )
        run.status = RunStatus.PENDING
        run.started_at = now
        run.finished_at = None
        run.error = ""
        run.attempts += 1
        if by is not None and by.user is not None:
            run.requested_by = by.user
        run.save()
        return run, True


def _finish(run: ReportRun, **values: Any) -> ReportRun:
    for name, value in values.items():
        setattr(run, name, value)
    run.finished_at = timezone.now()
    run.save(update_fields=[*values, "finished_at", "updated_at"])
    return run


def report_send(
    *, report_id: int, period_start: datetime, period_end: datetime, by: Actor | None = None
) -> tuple[ReportRun, bool]:
    """Send the report for a period once. Returns (run, sent): sent is False when this period had
    been sent already. A failure is recorded on the run (status failed, error, attempts) and raised
    as ReportDeliveryError, whose __cause__ tells a transient mail error (OSError) from the rest."""
    report = Report.objects.get(pk=report_id)
    run, claimed = _claim(report, period_start, period_end, by)
    if not claimed:
        return run, False
    recipients = report_recipients(report)
    if not recipients:
        _finish(run, status=RunStatus.FAILED, error="The report has no recipients.", recipients=[])
        raise ReportDeliveryError(
            "The report has no recipients: add users or addresses, then send it again.",
            run=run,
            code="no_recipients",
        )
    try:
        rendered = report_render(report, (period_start, period_end))
        report_email(rendered, recipients).send()
    except Exception as exc:
        logger.warning("Report %s for %s failed: %s", report.pk, period_start.date(), exc)
        _finish(
            run, status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], recipients=recipients
        )
        raise ReportDeliveryError(f"Sending the report failed: {exc}", run=run) from exc
    _finish(run, status=RunStatus.SENT, error="", recipients=recipients, subject=rendered.subject[:255])
    return run, True


def report_send_now(*, report: Report, by: Actor) -> tuple[ReportRun, bool]:
    """Send the report for its current period now (once per period, like the schedule)."""
    by.require("analytics.change_report", "send reports")
    start, end = report_period(report)
    return report_send(report_id=report.pk, period_start=start, period_end=end, by=by)


def report_preview(*, report: Report, now: datetime | None = None) -> RenderedReport:
    """What the email for the current period contains (reads only)."""
    return report_render(report, report_period(report, now))
