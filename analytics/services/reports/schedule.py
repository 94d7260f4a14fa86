"""Report definitions and their schedules: parameters normalised, the beat task kept in step."""

import json
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from analytics.filters import UNCLASSIFIED
from analytics.models import (
    Report,
    ReportGroupBy,
    ReportMetric,
    ReportRange,
    ReportType,
)
from common.actor import Actor
from incidents.choices import RootCauseCategory, ServiceType
from incidents.models import Priority, Service

TASK_NAME = "analytics.tasks.send_scheduled_report"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
FILTER_KEYS = ("services", "service_types", "teams", "priorities", "root_causes", "include_drills")
PARAMETER_KEYS = ("range", "group_by", "metrics", "filters")

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


def periodic_task_save(
    *,
    task: PeriodicTask | None,
    task_name: str,
    name: str,
    fields: dict[str, str],
    pk: int,
    enabled: bool,
    description: str,
) -> PeriodicTask:
    """Create or update a crontab PeriodicTask that calls `task_name` with `pk` (saved through the
    model, so beat's change tracking sees it). Crontab rows are shared by equal schedules and never
    edited in place. Reports and drill schedules both use it."""
    crontab = CrontabSchedule.objects.filter(**fields, timezone=settings.TIME_ZONE).order_by("pk").first()
    if crontab is None:
        crontab = CrontabSchedule.objects.create(**fields, timezone=settings.TIME_ZONE)
    task = task or PeriodicTask(task=task_name)
    task.name = name[:200]
    task.task = task_name
    task.crontab = crontab
    task.interval = task.solar = task.clocked = None
    task.args = json.dumps([pk])
    task.kwargs = "{}"
    task.enabled = enabled
    task.description = description
    task.save()
    return task


def _schedule_save(report: Report, fields: dict[str, str] | None) -> PeriodicTask:
    task = report.schedule
    if fields is None:
        fields = crontab_fields(crontab_text(task) or DEFAULT_SCHEDULE)
    return periodic_task_save(
        task=task,
        task_name=TASK_NAME,
        name=_task_name(report),
        fields=fields,
        pk=report.pk,
        enabled=report.enabled,
        description=f"Sends the analytics report {report.name!r} for its period.",
    )


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
