"""Scheduled email reports delivered to a real SMTP server: the email's MIME structure (HTML,
inline PNG charts as multipart/related, CSV), one send per period, failure and retry."""

import base64
import csv
import io

import pytest

from analytics.models import Report, ReportRun, RunStatus
from analytics.services.reports import ReportDeliveryError, report_render, report_save, report_send
from analytics.tasks import MAX_RETRIES, send_scheduled_report
from tests.analytics.conftest import JULY, JUNE, SYSTEM
from tests.postmortems.conftest import free_port


def parts(message) -> dict:
    """The parts of a report email by role, checking its MIME structure on the way."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = list(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    text, related = list(alternative.iter_parts())
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, *images = list(related.iter_parts())
    assert html.get_content_type() == "text/html"
    assert attachment.get_content_type() == "text/csv"
    return {"text": text.get_content(), "html": html.get_content(), "images": images, "csv": attachment}


# --- Delivery over real SMTP ------------------------------------------------------------------------


@pytest.mark.integration
def test_the_report_email_is_delivered_with_inline_charts_and_csv(report, june_incidents, smtp_server):
    run, sent = report_send(report_id=report.pk, period_start=JUNE[0], period_end=JUNE[1])
    assert sent and run.status == RunStatus.SENT and run.attempts == 1
    assert run.recipients == ["manager@example.com", "cto@example.com"]
    assert len(smtp_server) == 1
    delivery = smtp_server.deliveries[0]
    assert sorted(delivery.rcpt_tos) == ["cto@example.com", "manager@example.com"]
    message = delivery.message
    assert message["Subject"] == "June review: June 2026"
    email = parts(message)
    assert "Headline numbers" in email["text"]
    assert len(email["images"]) == 3
    for image in email["images"]:
        assert image.get_content_type() == "image/png"
        assert image.get_content_disposition() == "inline"
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in email["html"]
        assert image.get_content().startswith(b"\x89PNG")
    assert email["csv"].get_filename() == "june-review-2026-06-01.csv"
    rows = list(csv.DictReader(io.StringIO(email["csv"].get_content())))
    assert {"section": "summary", "group": "", "metric": "Incidents", "value": "4"} in rows

    # The preview is the email's HTML with each cid: image as a data: URI.
    html = email["html"]
    for image in email["images"]:
        uri = "data:image/png;base64," + base64.b64encode(image.get_content()).decode()
        html = html.replace("cid:" + image["Content-ID"].strip("<>"), uri)
    assert html == report_render(report, JUNE).html_with_data_uris()


@pytest.mark.integration
def test_one_email_per_period(report, smtp_server):
    first, sent = report_send(report_id=report.pk, period_start=JUNE[0], period_end=JUNE[1])
    again, sent_again = report_send(report_id=report.pk, period_start=JUNE[0], period_end=JUNE[1])
    assert sent and not sent_again and again.pk == first.pk
    assert len(smtp_server) == 1
    # The scheduled task for a period already sent sends nothing either.
    result = send_scheduled_report.apply(
        args=[report.pk], kwargs={"period_start": JUNE[0].isoformat(), "period_end": JUNE[1].isoformat()}
    )
    assert result.get() == "already sent"
    assert len(smtp_server) == 1

    _, sent_july = report_send(report_id=report.pk, period_start=JULY[0], period_end=JULY[1])
    assert sent_july and len(smtp_server) == 2
    assert ReportRun.objects.filter(report=report).count() == 2


@pytest.mark.integration
def test_a_failed_send_is_recorded_and_retried(report, smtp_server, settings):
    settings.EMAIL_PORT = free_port()  # nothing listens: the server is down
    with pytest.raises(ReportDeliveryError) as failed:
        report_send(report_id=report.pk, period_start=JUNE[0], period_end=JUNE[1])
    assert isinstance(failed.value.__cause__, OSError)
    run = ReportRun.objects.get(report=report)
    assert (run.status, run.attempts) == (RunStatus.FAILED, 1)
    assert run.error

    settings.EMAIL_PORT = smtp_server.port
    run, sent = report_send(report_id=report.pk, period_start=JUNE[0], period_end=JUNE[1])
    assert sent and (run.status, run.attempts, run.error) == (RunStatus.SENT, 2, "")
    assert len(smtp_server) == 1


@pytest.mark.integration
def test_the_task_retries_a_bounded_number_of_times(report, smtp_server, settings):
    settings.EMAIL_PORT = free_port()
    result = send_scheduled_report.apply(
        args=[report.pk], kwargs={"period_start": JUNE[0].isoformat(), "period_end": JUNE[1].isoformat()}
    )
    assert result.failed()
    run = ReportRun.objects.get(report=report)
    assert (run.status, run.attempts) == (RunStatus.FAILED, MAX_RETRIES + 1)


def test_no_recipients_is_a_failed_run_and_nothing_sent(db, mailoutbox):
    report = Report.objects.get(name="Monthly incident report")
    with pytest.raises(ReportDeliveryError) as failed:
        report_send(report_id=report.pk, period_start=JUNE[0], period_end=JUNE[1])
    assert failed.value.code == "no_recipients"
    assert ReportRun.objects.get(report=report).status == RunStatus.FAILED
    assert mailoutbox == []


def test_a_disabled_report_is_not_sent_by_the_schedule(report, mailoutbox):
    report_save(by=SYSTEM, report=report, data={"enabled": False})
    assert send_scheduled_report.apply(args=[report.pk]).get() == "skipped"
    assert not ReportRun.objects.exists()
