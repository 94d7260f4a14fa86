"""The scheduled email reports' REST API: CRUD by an admin, read and preview for viewers, send now
once per period."""

from datetime import UTC, datetime

import pytest
from django_celery_beat.models import PeriodicTask

from analytics.models import Report, ReportRun, RunStatus
from analytics.services.reports import report_period
from tests.incidents.api_support import token_client

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
