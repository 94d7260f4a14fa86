"""Scheduled email reports: the one write path for the admin, the API and the tasks.

A report's schedule is a django-celery-beat PeriodicTask (with its CrontabSchedule, in TIME_ZONE)
that calls analytics.tasks.send_scheduled_report; report_save keeps it in step with the report.
A send claims the ReportRun row of its period first (unique per report and period), so a repeated
task, a retry after a success or a second "send now" sends nothing; a failed run is claimed again
by the next attempt. The email is rendered once: text, HTML with its charts as inline PNG images
(multipart/related, referenced by cid:), and a CSV of the tables.

One module per job: schedule (definitions and their beat tasks), periods, render, delivery."""

from analytics.services.reports.delivery import (
    ReportDeliveryError,
    ReportRunningError,
    report_email,
    report_recipients,
    report_send,
    report_send_now,
)
from analytics.services.reports.periods import period_label, report_period
from analytics.services.reports.render import RenderedReport, report_filters, report_preview, report_render
from analytics.services.reports.schedule import (
    DEFAULT_SCHEDULE,
    crontab_fields,
    crontab_text,
    report_delete,
    report_parameters,
    report_save,
)

__all__ = [
    "DEFAULT_SCHEDULE",
    "RenderedReport",
    "ReportDeliveryError",
    "ReportRunningError",
    "crontab_fields",
    "crontab_text",
    "period_label",
    "report_delete",
    "report_email",
    "report_filters",
    "report_parameters",
    "report_period",
    "report_preview",
    "report_recipients",
    "report_render",
    "report_save",
    "report_send",
    "report_send_now",
]
