"""Scheduled email reports: definitions and their PeriodicTask, periods, the rendered email (HTML,
inline PNG charts, CSV) and the admin. Delivery: test_reports_delivery.py; the API: test_reports_api.py."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from analytics.models import Report
from analytics.services.reports import report_period, report_render, report_save
from tests.analytics.conftest import JUNE, SYSTEM

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
