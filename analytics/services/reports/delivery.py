"""Sending: a period's run is claimed first, so a repeated task or a second "send now" sends nothing."""

import logging
from datetime import datetime, timedelta
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics.models import Report, ReportRun, RunStatus
from analytics.services.reports.periods import report_period
from analytics.services.reports.render import RenderedReport, report_render
from common.actor import Actor
from common.exceptions import ApplicationError, ConflictError

logger = logging.getLogger(__name__)

# A run still "sending" after this long died with its worker: the next attempt may take it over.
STALE_AFTER = timedelta(minutes=15)


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
