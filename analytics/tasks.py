"""Celery tasks of the analytics app: thin, they compute the period and call the services."""

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from analytics.models import Report
from analytics.services import cost as cost_services
from analytics.services.reports import ReportDeliveryError, ReportRunningError, report_period, report_send

logger = logging.getLogger(__name__)

MAX_RETRIES = 6
# 1, 2, 4, 8, 16, 32 minutes: a mail server's bad half hour, not a lost report.
RETRY_BASE_SECONDS = 60


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_scheduled_report(
    self, report_id: int, period_start: str | None = None, period_end: str | None = None
) -> str:
    """Beat, on the report's crontab: send the report for the period that ends before now. Retries
    keep the period they started with, and the period's ReportRun makes a repeat send nothing."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None or not report.enabled:
        return "skipped"
    if period_start and period_end:
        start, end = datetime.fromisoformat(period_start), datetime.fromisoformat(period_end)
    else:
        start, end = report_period(report, timezone.now())
    try:
        _run, sent = report_send(report_id=report.pk, period_start=start, period_end=end)
    except ReportRunningError:
        return "running"
    except ReportDeliveryError as exc:
        if isinstance(exc.__cause__, OSError):
            raise self.retry(
                exc=exc,
                countdown=RETRY_BASE_SECONDS * 2**self.request.retries,
                kwargs={
                    "report_id": report_id,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                },
            ) from exc
        logger.error("Report %s not sent for %s: %s", report_id, start.date(), exc.message)
        return "failed"
    return "sent" if sent else "already sent"


@shared_task(acks_late=True)
def incident_cost_refresh(incident_id: int) -> str:
    """After a timeline event of the incident: store its cost anew (idempotent)."""
    return "refreshed" if cost_services.incident_cost_refresh(incident_id=incident_id) else "gone"


@shared_task(acks_late=True)
def incident_costs_reprice_team(team: str) -> int:
    """After a team's hourly rate changed: its incidents' costs anew."""
    return cost_services.incident_costs_reprice_team(team=team)


@shared_task(acks_late=True)
def sweep_incident_costs() -> int:
    """Beat: open incidents' growing costs, lost refreshes and default-rate changes."""
    return cost_services.incident_costs_sweep()
