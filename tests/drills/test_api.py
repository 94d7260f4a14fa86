"""The drills API: scenarios, starting and cancelling runs, reports (edit, Markdown export), bad input
as 400s and the lists at a constant number of queries."""

import pytest

from common.actor import Actor, Source
from drills.choices import DrillStatus, StartMode
from drills.models import DrillReport, DrillRun, DrillScenario
from drills.services import drill_run_cancel, drill_run_start
from tests.incidents.api_support import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_responder(responder):
    return client_for(responder)


@pytest.fixture
def as_admin(user_factory):
    return client_for(user_factory(username="drill-admin", groups=["Admin"]))


def ended_runs(scenario, responder, count: int, **data) -> list[DrillRun]:
    by = Actor(user=responder, source=Source.API)
    made = scenario(**data)
    return [drill_run_cancel(run=drill_run_start(scenario=made, by=by), by=by) for _ in range(count)]


def test_an_admin_creates_and_edits_a_scenario(as_admin, priorities, service_factory):
    web = service_factory(name="Web")
    created = as_admin.post(
        "/api/v1/drills/scenarios/",
        {"name": "Disk full", "kind": "disk_full", "priority": "P2", "services": [web.pk]},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["priority"] == "P2" and body["services"] == [web.pk] and body["start_mode"] == "direct"

    changed = as_admin.patch(f"/api/v1/drills/scenarios/{body['id']}/", {"description": "The volume fills."})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["description"] == "The volume fills." and changed.json()["priority"] == "P2"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "x", "kind": "volcano"}, "kind"),
        ({"name": "x", "priority": "P9"}, "priority"),
        ({"name": "x"}, "priority"),  # Direct mode needs one.
        ({"name": "x", "start_mode": "synthetic_alert", "priority": "P3"}, "source"),
        ({"name": "x", "priority": "P3", "alert_labels": {"a": {"nested": 1}}}, "alert_labels"),
        ({"name": "x", "priority": "P3", "injection_action": 99999999999999999999}, "injection_action"),
    ],
)
def test_bad_scenarios_are_400s_with_field_errors_and_nothing_written(as_admin, priorities, data, field):
    response = as_admin.post("/api/v1/drills/scenarios/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"] if "errors" in response.json() else field in response.json()
    assert not DrillScenario.objects.exists()


def test_a_synthetic_scenario_needs_a_drill_source_not_a_real_one(as_admin, priorities):
    from alerts.services import alert_source_create

    real = alert_source_create(by=Actor.system(), name="Prometheus", kind="alertmanager")[0]
    response = as_admin.post(
        "/api/v1/drills/scenarios/",
        {"name": "x", "start_mode": "synthetic_alert", "source": real.pk, "alert_labels": {"alertname": "A"}},
        format="json",
    )
    assert response.status_code == 400
    assert not DrillScenario.objects.exists()


def test_a_responder_starts_and_cancels_a_drill(as_responder, scenario, responder):
    made = scenario()
    started = as_responder.post(
        "/api/v1/drills/runs/start/", {"scenario": made.pk, "participants": [responder.pk]}
    )
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["status"] == DrillStatus.RUNNING and body["incident"]["reference"]
    assert body["participants"] == [responder.pk] and body["report"] is None
    assert set(body["timings"]) == {
        "detect_seconds",
        "acknowledge_seconds",
        "first_action_seconds",
        "resolve_seconds",
    }

    cancelled = as_responder.post(f"/api/v1/drills/runs/{body['id']}/cancel/", {"reason": "Real outage"})
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == DrillStatus.CANCELLED and cancelled.json()["report"] is not None

    again = as_responder.post(f"/api/v1/drills/runs/{body['id']}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "transition_not_allowed"


def test_a_synthetic_drill_started_over_the_api_has_its_alert_and_no_incident_yet(
    as_responder, scenario, drill_source
):
    made = scenario(start_mode=StartMode.SYNTHETIC_ALERT, source=drill_source)
    started = as_responder.post("/api/v1/drills/runs/start/", {"scenario": made.pk})
    assert started.status_code == 201, started.json()
    assert started.json()["alert"] is not None and started.json()["incident"] is None


@pytest.mark.parametrize(
    "data", [{}, {"scenario": "abc"}, {"scenario": 424242}, {"scenario": 1, "participants": ["x"]}]
)
def test_bad_starts_are_400s(as_responder, scenario, data):
    scenario()
    response = as_responder.post("/api/v1/drills/runs/start/", data, format="json")
    assert response.status_code == 400
    assert not DrillRun.objects.exists()


def test_a_disabled_scenario_cannot_start(as_responder, scenario):
    made = scenario(enabled=False)
    response = as_responder.post("/api/v1/drills/runs/start/", {"scenario": made.pk})
    assert response.status_code == 400 and "scenario" in str(response.json())


def test_a_viewer_reads_but_may_not_start(viewer, scenario):
    made = scenario()
    client = client_for(viewer)
    assert client.get("/api/v1/drills/scenarios/").status_code == 200
    assert client.post("/api/v1/drills/runs/start/", {"scenario": made.pk}).status_code == 403
    assert not DrillRun.objects.exists()


def test_reports_are_edited_and_exported_as_markdown(as_responder, scenario, responder):
    (run,) = ended_runs(scenario, responder, 1)
    report = DrillReport.objects.get(run=run)

    edited = as_responder.patch(
        f"/api/v1/drills/reports/{report.pk}/",
        {"observations": "Found the pool quickly.", "score": 8, "improvements": "Page the DBA sooner."},
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["score"] == 8 and edited.json()["responders"] == [
        {"name": "responder", "roles": [], "first_at": edited.json()["responders"][0]["first_at"]}
    ]

    exported = as_responder.get(f"/api/v1/drills/reports/{report.pk}/export/")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/markdown")
    text = exported.content.decode()
    assert "# Drill report: Database connection exhaustion" in text
    assert "Found the pool quickly." in text and "**Score**: 8/10" in text and "Time to acknowledge" in text


@pytest.mark.parametrize("data", [{"score": 11}, {"score": -1}, {"score": "lots"}])
def test_bad_report_edits_are_400s(as_responder, scenario, responder, data):
    (run,) = ended_runs(scenario, responder, 1)
    report = DrillReport.objects.get(run=run)
    response = as_responder.patch(f"/api/v1/drills/reports/{report.pk}/", data, format="json")
    assert response.status_code == 400 and "score" in str(response.json())
    assert DrillReport.objects.get(pk=report.pk).score is None


# Count, page, and one prefetch (services, participants, runs with their timings).
LIST_QUERIES = {"scenarios": 3, "runs": 3, "reports": 3}


@pytest.mark.parametrize("path", ["scenarios", "runs", "reports"])
def test_lists_run_a_constant_number_of_queries(
    as_responder, scenario, responder, django_assert_num_queries, path, service_factory
):
    ended_runs(scenario, responder, 1)
    for n in range(3):
        (run,) = ended_runs(scenario, responder, 1, name=f"Extra {n}")
        run.scenario.services.set([service_factory(name=f"S{n}")])
    with django_assert_num_queries(LIST_QUERIES[path]):
        response = as_responder.get(f"/api/v1/drills/{path}/")
    assert response.status_code == 200 and response.json()["count"] >= 4


def test_a_scenario_with_drills_on_record_is_kept(as_admin, scenario, responder):
    (run,) = ended_runs(scenario, responder, 1)
    unused = scenario(name="Unused")
    kept = as_admin.delete(f"/api/v1/drills/scenarios/{run.scenario_id}/")
    assert kept.status_code == 409 and DrillScenario.objects.filter(pk=run.scenario_id).exists()
    assert as_admin.delete(f"/api/v1/drills/scenarios/{unused.pk}/").status_code == 204
    assert not DrillScenario.objects.filter(pk=unused.pk).exists()


def test_runs_filter_by_status_scenario_and_kind(as_responder, scenario, responder):
    (ended,) = ended_runs(scenario, responder, 1)
    running = drill_run_start(
        scenario=scenario(name="Latency", kind="network_latency"), by=Actor(user=responder, source=Source.API)
    )

    def ids(query: str) -> list[int]:
        response = as_responder.get(f"/api/v1/drills/runs/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=running") == [running.pk]
    assert ids("status=cancelled&status=running") == [running.pk, ended.pk]
    assert ids(f"scenario={ended.scenario_id}") == [ended.pk]
    assert ids("kind=network_latency") == [running.pk]
    assert as_responder.get("/api/v1/drills/runs/?status=exploded").status_code == 400
