"""Scheduled email reports: definitions and their PeriodicTask, periods, the rendered email (HTML,
inline PNG charts as multipart/related, CSV) delivered to a real SMTP server, one send per period,
failure and retry, the API and the admin."""

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from analytics.models import Report, ReportRun, RunStatus
from analytics.services.reports import (
    ReportDeliveryError,
    report_period,
    report_render,
    report_save,
    report_send,
)
from analytics.tasks import MAX_RETRIES, send_scheduled_report
from common.actor import Actor, Source
from incidents.models import Priority
from tests.factories import IncidentFactory
from tests.incidents.api_support import token_client
from tests.postmortems.conftest import free_port

JUNE = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
JULY = (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC))
SYSTEM = Actor.system(Source.TASK)


def incident(day: int, priority: str, *, resolve_minutes: int | None, root_cause: str = ""):
    detected = JUNE[0] + timedelta(days=day, hours=10)
    return IncidentFactory(
        priority=Priority.objects.get(code=priority),
        started_at=detected - timedelta(minutes=5),
        detected_at=detected,
        acknowledged_at=detected + timedelta(minutes=10),
        resolved_at=detected + timedelta(minutes=resolve_minutes) if resolve_minutes else None,
        status="resolved" if resolve_minutes else "in_progress",
        root_cause_category=root_cause,
    )


@pytest.fixture
def june_incidents(db):
    return [
        incident(1, "P1", resolve_minutes=60, root_cause="deployment"),
        incident(3, "P2", resolve_minutes=120, root_cause="deployment"),
        incident(10, "P3", resolve_minutes=30, root_cause="capacity"),
        incident(20, "P2", resolve_minutes=None),
    ]


@pytest.fixture
def report(db, user_factory):
    manager = user_factory(username="manager", email="manager@example.com")
    return report_save(
        by=SYSTEM,
        data={
            "name": "June review",
            "type": "incident_summary",
            "parameters": {"range": "previous_month"},
            "extra_recipients": ["cto@example.com"],
        },
        recipient_users=[manager],
        schedule="0 7 1 * *",
    )


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


# --- Definitions and schedules ----------------------------------------------------------------------


def test_the_monthly_incident_report_exists_by_default(db):
    report = Report.objects.select_related("schedule__crontab").get(name="Monthly incident report")
    assert report.type == "incident_summary"
    assert report.enabled
    assert report.parameters["range"] == "previous_month"
    assert {"summary", "grouped", "trends", "root_causes", "action_items"} <= set(
        report.parameters["metrics"]
    )
    assert report.recipients.count() == 0
    task = report.schedule
    assert task.task == "analytics.tasks.send_scheduled_report"
    assert json.loads(task.args) == [report.pk]
    assert task.enabled
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "0",
        "7",
        "1",
        "*",
        "*",
    )


def test_the_periodic_task_follows_report_save(report):
    task = report.schedule
    assert task.crontab.hour == "7" and task.enabled

    report = report_save(by=SYSTEM, report=report, data={"name": "Weekly review"}, schedule="30 6 * * 1")
    task = PeriodicTask.objects.select_related("crontab").get(pk=task.pk)
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("30", "6", "1")
    assert "Weekly review" in task.name

    report = report_save(
        by=SYSTEM,
        report=report,
        data={"enabled": False},
        schedule={"minute": "15", "hour": "8", "day_of_month": "2"},
    )
    task.refresh_from_db()
    assert not task.enabled and not report.enabled
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_month) == ("15", "8", "2")

    pk = task.pk
    from analytics.services.reports import report_delete

    report_delete(by=SYSTEM, report=report)
    assert not PeriodicTask.objects.filter(pk=pk).exists()


@pytest.mark.parametrize(
    ("data", "schedule", "field"),
    [
        ({"parameters": {"range": "last_year"}}, None, "parameters"),
        ({"parameters": {"metrics": ["summary", "gossip"]}}, None, "parameters"),
        ({"parameters": {"filters": {"priorities": ["P9"]}}}, None, "parameters"),
        ({}, "61 7 * * *", "schedule"),
        ({}, "0 7 1 *", "schedule"),
        ({"extra_recipients": ["not-an-address"]}, None, "extra_recipients"),
    ],
)
def test_bad_definitions_are_refused(report, data, schedule, field):
    before = (report.parameters, report.schedule.crontab_id)
    with pytest.raises(ValidationError) as refused:
        report_save(by=SYSTEM, report=report, data=data, schedule=schedule)
    assert field in refused.value.message_dict
    report.refresh_from_db()
    assert (report.parameters, report.schedule.crontab_id) == before


def test_previous_month_across_a_year_boundary(report, settings):
    assert report_period(report, datetime(2027, 1, 1, 7, 0, tzinfo=UTC)) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    settings.TIME_ZONE = "Europe/Paris"
    # 23:30 UTC on 31 December is already 1 January in Paris.
    start, end = report_period(report, datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert start == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def test_weekly_and_rolling_periods_are_whole_days(report):
    now = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # a Wednesday
    report.parameters = {**report.parameters, "range": "previous_week"}
    assert report_period(report, now) == (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC))
    report.parameters = {**report.parameters, "range": "last_7_days"}
    assert report_period(report, now) == (datetime(2026, 6, 3, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC))


def test_render_has_the_sections_charts_and_csv(report, june_incidents):
    rendered = report_render(report, JUNE)
    assert rendered.subject == "June review: June 2026"
    assert len(rendered.images) == 3
    for cid, png in rendered.images.items():
        assert png.startswith(b"\x89PNG")
        assert f'src="cid:{cid}"' in rendered.html
    for heading in ("By priority", "Improvement trend", "Top root causes", "Post-mortems and action items"):
        assert heading in rendered.html
    rows = list(csv.DictReader(io.StringIO(rendered.csv_bytes.decode())))
    assert {"section": "summary", "group": "", "metric": "Incidents", "value": "4"} in rows
    assert {"section": "by_priority", "group": "P2", "metric": "incidents", "value": "2"} in rows
    assert {"section": "root_causes", "group": "deployment", "metric": "incidents", "value": "2"} in rows
    # Same report and period, same bytes: the preview shows what the email carries.
    assert report_render(report, JUNE) == rendered


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


# --- API --------------------------------------------------------------------------------------------


@pytest.fixture
def client_as(user_factory):
    def make(group: str):
        return token_client(user_factory(username=f"{group.lower()}-member", groups=[group]))

    return make


def test_api_crud_by_an_admin(client_as, db):
    client = client_as("Admin")
    created = client.post(
        "/api/v1/reports/",
        {
            "name": "Team metrics",
            "type": "team_metrics",
            "parameters": {"range": "last_30_days", "filters": {"priorities": ["P1", "P2"]}},
            "extra_recipients": ["lead@example.com"],
            "schedule": "0 8 * * 1",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["schedule"] == "0 8 * * 1"
    assert body["parameters"]["group_by"] == "team"
    assert body["parameters"]["filters"]["priorities"] == ["P1", "P2"]
    url = f"/api/v1/reports/{body['id']}/"

    changed = client.patch(url, {"schedule": "0 9 * * 1", "enabled": False})
    assert changed.status_code == 200
    task = PeriodicTask.objects.get(pk=body["schedule_task"])
    assert task.crontab.hour == "9" and not task.enabled

    bad = client.patch(url, {"schedule": "every monday"})
    assert bad.status_code == 400 and "schedule" in bad.json()
    bad = client.post("/api/v1/reports/", {"name": "X", "type": "team_metrics", "status": "sent"})
    assert bad.status_code == 400 and "status" in bad.json()
    bad = client.post("/api/v1/reports/", {"name": "Team metrics", "type": "team_metrics"})
    assert bad.status_code == 400 and "name" in bad.json()

    listed = client.get("/api/v1/reports/")
    assert {r["name"] for r in listed.json()["results"]} == {"Monthly incident report", "Team metrics"}
    assert client.delete(url).status_code == 204
    assert not PeriodicTask.objects.filter(pk=body["schedule_task"]).exists()


@pytest.mark.parametrize("group", ["Viewer", "Responder"])
def test_api_viewers_read_and_preview_but_do_not_write(client_as, group, db):
    client = client_as(group)
    report = Report.objects.get(name="Monthly incident report")
    assert client.get("/api/v1/reports/").status_code == 200
    preview = client.get(f"/api/v1/reports/{report.pk}/preview/")
    assert preview.status_code == 200
    body = preview.json()
    assert body["subject"].startswith("Monthly incident report: ")
    assert "data:image/png;base64," in body["html"] and "cid:" not in body["html"]
    assert body["csv"].startswith("section,group,metric,value")
    assert client.post("/api/v1/reports/", {"name": "X", "type": "team_metrics"}).status_code == 403
    assert client.patch(f"/api/v1/reports/{report.pk}/", {"enabled": False}).status_code == 403
    assert client.post(f"/api/v1/reports/{report.pk}/send-now/").status_code == 403
    assert client.delete(f"/api/v1/reports/{report.pk}/").status_code == 403


@pytest.mark.integration
def test_api_send_now_once_per_period(client_as, report, smtp_server):
    client = client_as("Admin")
    url = f"/api/v1/reports/{report.pk}/send-now/"
    first = client.post(url)
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "sent"
    again = client.post(url)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert len(smtp_server) == 1


def test_api_send_now_while_sending_is_a_conflict(client_as, report, mailoutbox):
    start, end = report_period(report)
    ReportRun.objects.create(
        report=report,
        period_start=start,
        period_end=end,
        status=RunStatus.PENDING,
        started_at=datetime.now(UTC),
        attempts=1,
    )
    answer = client_as("Admin").post(f"/api/v1/reports/{report.pk}/send-now/")
    assert answer.status_code == 409 and answer.json()["code"] == "report_running"
    assert mailoutbox == []


# --- Admin ------------------------------------------------------------------------------------------


def test_admin_preview_renders_the_email(admin_client, report, june_incidents):
    page = admin_client.get(reverse("admin:analytics_report_preview", args=[report.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "data:image/png;base64," in content
    assert "June review: " in content
    change = admin_client.get(reverse("admin:analytics_report_change", args=[report.pk]))
    assert change.status_code == 200 and b"send-report-now" in change.content
    assert admin_client.get(reverse("admin:analytics_report_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:analytics_reportrun_changelist")).status_code == 200


def test_admin_add_form_saves_through_the_service(admin_client, db):
    answer = admin_client.post(
        reverse("admin:analytics_report_add"),
        {
            "name": "Service performance",
            "type": "service_performance",
            "enabled": "on",
            "schedule_text": "0 6 * * 1",
            "range": "last_7_days",
            "group_by": "",
            "service_types": ["web"],
            "extra_recipients_text": "ops@example.com",
            "runs-TOTAL_FORMS": "0",
            "runs-INITIAL_FORMS": "0",
        },
    )
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    report = Report.objects.get(name="Service performance")
    assert report.parameters["group_by"] == "service_type"
    assert report.parameters["filters"]["service_types"] == ["web"]
    assert report.extra_recipients == ["ops@example.com"]
    assert report.schedule.crontab.day_of_week == "1"

    refused = admin_client.post(
        reverse("admin:analytics_report_add"),
        {"name": "Other", "type": "team_metrics", "schedule_text": "0 25 * * *", "range": "last_7_days"}
        | {"runs-TOTAL_FORMS": "0", "runs-INITIAL_FORMS": "0"},
    )
    assert refused.status_code == 200 and "schedule_text" in refused.context["adminform"].form.errors
