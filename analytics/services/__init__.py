"""Writes of the analytics app: report definitions, their schedules and their sends."""

from analytics.services.reports import (
    RenderedReport,
    ReportDeliveryError,
    ReportRunningError,
    report_delete,
    report_period,
    report_preview,
    report_render,
    report_save,
    report_send,
    report_send_now,
)

__all__ = [
    "RenderedReport",
    "ReportDeliveryError",
    "ReportRunningError",
    "report_delete",
    "report_period",
    "report_preview",
    "report_render",
    "report_save",
    "report_send",
    "report_send_now",
]
