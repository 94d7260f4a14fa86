"""REST API: actions listed with their statistics, and requesting a run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions.choices import RunStatus
from actions.models import Action, ActionRun
from actions.tasks import execute_action_run
from incidents.choices import EventKind
from tests.actions.api_support import action_body, api_url, client_for, token_client
from tests.enqueued import enqueued

pytestmark = pytest.mark.django_db


# --- List, statistics, filters --------------------------------------------------------------------


def test_list_shows_run_statistics(api, action_factory, action_run_factory):
    now = timezone.now()
    busy = action_factory(name="Busy")
    idle = action_factory(name="Idle")
    for status, minutes in [("succeeded", 1), ("succeeded", 3), ("failed", 2), ("timed_out", 6)]:
        action_run_factory(
            action=busy, status=status, started_at=now - timedelta(minutes=minutes), finished_at=now
        )
    # Not finished, or finished without a result: counted as runs, not in the rate or the average.
    action_run_factory(action=busy, status="running", started_at=now - timedelta(hours=1))
    last = action_run_factory(action=busy, status="rejected", finished_at=now)

    response = api.get(api_url("actions"))

    assert response.status_code == 200
    rows = {row["name"]: row for row in response.data["results"]}
    assert rows["Busy"]["run_count"] == 6
    assert rows["Busy"]["success_rate"] == pytest.approx(0.5)
    assert rows["Busy"]["average_duration_seconds"] == pytest.approx(180)
    assert rows["Busy"]["last_run_at"] == last.created_at.isoformat().replace("+00:00", "Z")
    assert (rows["Idle"]["run_count"], rows["Idle"]["success_rate"]) == (0, None)
    assert rows["Idle"]["average_duration_seconds"] is None
    assert "steps" not in rows["Busy"]
    assert idle.pk == rows["Idle"]["id"]


def test_retrieve_shows_statistics_and_steps(api, runnable_action, action_run_factory):
    action = runnable_action()
    action_run_factory(action=action, finished=True)

    response = api.get(api_url("actions", action))

    assert response.status_code == 200
    assert response.data["run_count"] == 1
    assert response.data["success_rate"] == 1.0
    assert [s["name"] for s in response.data["steps"]] == ["Check"]


def test_filter_actions(api, action_factory, service_factory):
    web = service_factory(slug="web")
    db = service_factory(slug="db")
    restart = action_factory(name="Restart web", category="restart", services=[web, db])
    cleanup = action_factory(name="Clean tmp", category="cleanup", risk="high", description="Frees disk")
    action_factory(name="Old", enabled=False)

    def names(params):
        response = api.get(api_url("actions"), params)
        assert response.status_code == 200, response.data
        return [row["name"] for row in response.data["results"]]

    assert names({"category": "restart"}) == [restart.name]
    assert names({"category": ["restart", "cleanup"]}) == [cleanup.name, restart.name]
    assert names({"risk": "high"}) == [cleanup.name]
    assert names({"enabled": "false"}) == ["Old"]
    assert names({"service": "web"}) == [restart.name]
    assert names({"service": db.pk}) == [restart.name]
    assert names({"search": "disk"}) == [cleanup.name]


def test_filtering_by_service_keeps_the_statistics_right(
    api, action_factory, action_run_factory, service_factory
):
    web, db = service_factory(slug="web"), service_factory(slug="db")
    action = action_factory(services=[web, db])
    action_run_factory(action=action, finished=True)
    action_run_factory(action=action, finished=True, status="failed")

    row = api.get(api_url("actions"), {"service": "web"}).data["results"][0]

    assert (row["run_count"], row["success_rate"]) == (2, 0.5)


# --- Requesting a run ---------------------------------------------------------------------------------


@pytest.fixture
def service_action(provider_factory, catalog_admin):
    local = provider_factory(name="worker")
    response = client_for(catalog_admin).post(api_url("actions"), action_body(local))
    assert response.status_code == 201, response.data
    return Action.objects.get(pk=response.data["id"])


def test_run_is_scheduled_and_enqueued_on_commit(
    responder, service_action, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(responder).post(
            api_url("actions", service_action, "run"), {"parameters": {"service": "php-fpm"}}
        )

    assert response.status_code == 201, response.data
    run = ActionRun.objects.get(pk=response.data["id"])
    assert response.data["status"] == RunStatus.SCHEDULED
    assert response.data["parameters"] == {"service": "php-fpm"}
    assert response.data["requested_by"] == "responder"
    assert response.data["requested_via"] == "api"
    assert response.data["action"] == service_action.name
    assert response.data["step_runs"] == []
    assert run.task_id
    # Enqueued once the request commits; recorded here instead of sent, so nothing executes.
    assert len(callbacks) == 1
    sent = []
    monkeypatch.setattr(execute_action_run, "apply_async", lambda **kwargs: sent.append(kwargs))
    callbacks[0]()
    assert sent == [{"kwargs": {"run_id": run.pk}, "task_id": run.task_id, "eta": None, "retry": False}]


def test_run_uses_parameter_defaults(responder, service_action):
    response = client_for(responder).post(api_url("actions", service_action, "run"), {})

    assert response.status_code == 201, response.data
    assert response.data["parameters"] == {"service": "nginx"}


def test_run_for_an_incident_by_reference_or_id(responder, service_action, open_incident):
    incident = open_incident()
    client = client_for(responder)

    by_reference = client.post(api_url("actions", service_action, "run"), {"incident": incident.reference})
    by_id = client.post(api_url("actions", service_action, "run"), {"incident": incident.pk})

    assert by_reference.status_code == 201, by_reference.data
    assert by_reference.data["incident"] == incident.reference
    assert by_id.data["incident_id"] == incident.pk
    kinds = list(incident.timeline_events.values_list("kind", flat=True))
    assert kinds.count(EventKind.ACTION_REQUESTED) == 2


def test_run_at_a_later_time(responder, service_action, django_capture_on_commit_callbacks, monkeypatch):
    due = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(responder).post(
            api_url("actions", service_action, "run"), {"due_at": due.isoformat()}
        )

    assert response.status_code == 201, response.data
    assert response.data["status"] == RunStatus.SCHEDULED
    sent = []
    monkeypatch.setattr(execute_action_run, "apply_async", lambda **kwargs: sent.append(kwargs))
    callbacks[0]()
    assert sent[0]["eta"] == due


@pytest.mark.parametrize(
    ("parameters", "key", "message"),
    [
        ({"service": ""}, None, None),  # Empty takes the default.
        ({"service": "Nginx!"}, "parameters.service", "Must match ^[a-z-]+$."),
        ({"service": "nginx", "host": "db-1"}, "parameters.host", "This action declares no such parameter."),
        ({"service": ["a", "b"]}, "parameters.service", "Give a single text or number value."),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(responder, service_action, parameters, key, message):
    response = client_for(responder).post(
        api_url("actions", service_action, "run"), {"parameters": parameters}
    )

    if key is None:
        assert response.status_code == 201, response.data
        return
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data[key] == [message]
    assert not ActionRun.objects.exists()


def test_a_missing_required_parameter_is_400(responder, action_factory, action_step_factory):
    action = action_factory(parameters=[{"name": "service", "required": True}, {"name": "count"}])
    action_step_factory(action=action)

    response = client_for(responder).post(api_url("actions", action, "run"), {"parameters": {"count": 3}})

    assert response.status_code == 400
    assert response.data["parameters.service"] == ["This parameter is required."]
    assert "parameters.count" not in response.data
    assert not ActionRun.objects.exists()


def test_parameters_must_be_an_object(responder, service_action):
    response = client_for(responder).post(
        api_url("actions", service_action, "run"), {"parameters": ["nginx"]}
    )

    assert response.status_code == 400
    assert "parameters" in response.data


def test_a_high_risk_action_waits_for_approval(
    responder, runnable_action, django_capture_on_commit_callbacks
):
    action = runnable_action(risk="high")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(responder).post(api_url("actions", action, "run"), {})

    assert response.status_code == 201, response.data
    assert response.data["status"] == RunStatus.AWAITING_APPROVAL
    assert response.data["require_approval"] is True
    assert response.data["approval_expires_at"] is not None
    assert enqueued(callbacks, "actions.") == []  # Nothing starts it; the approvers are told.
    assert enqueued(callbacks) == ["notifications.tasks.event_route"]


def test_a_low_risk_run_can_ask_for_approval(responder, runnable_action):
    response = client_for(responder).post(
        api_url("actions", runnable_action(), "run"), {"require_approval": True}
    )

    assert response.status_code == 201
    assert response.data["status"] == RunStatus.AWAITING_APPROVAL


def test_run_of_a_disabled_action_is_400(responder, runnable_action):
    response = client_for(responder).post(api_url("actions", runnable_action(enabled=False), "run"), {})

    assert response.status_code == 400
    assert "disabled" in response.data["action"][0]


def test_run_of_an_action_without_steps_is_400(responder, action_factory):
    response = client_for(responder).post(api_url("actions", action_factory(), "run"), {})

    assert response.status_code == 400
    assert "no steps" in response.data["action"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"incident": "INC-1999-0001"}, "incident"),
        ({"due_at": "tomorrow"}, "due_at"),
        ({"require_approval": "maybe"}, "require_approval"),
        ({"params": {}}, "params"),
    ],
)
def test_bad_run_input_is_400(responder, runnable_action, body, field):
    response = client_for(responder).post(api_url("actions", runnable_action(), "run"), body)

    assert response.status_code == 400
    assert field in response.data
    assert not ActionRun.objects.exists()


def test_run_of_an_unknown_action_is_404(responder):
    assert client_for(responder).post("/api/v1/actions/999999/run/", {}).status_code == 404


# --- Query counts -----------------------------------------------------------------------------------
# Token authentication: token + user (1), permissions (2), then count (1), the actions with their
# statistics aggregated (1), services prefetched (1).
ACTION_LIST_QUERIES = 6


@pytest.mark.parametrize("size", [1, 30])
def test_action_list_runs_a_constant_number_of_queries(
    viewer, action_factory, action_run_factory, service_factory, size, django_assert_num_queries
):
    services = [service_factory(), service_factory()]
    for _ in range(size):
        action = action_factory(services=services)
        action_run_factory(action=action, finished=True)
        action_run_factory(action=action, finished=True, status="failed")
    client = token_client(viewer)

    with django_assert_num_queries(ACTION_LIST_QUERIES):
        response = client.get(api_url("actions"))

    assert len(response.data["results"]) == size
    assert all(row["run_count"] == 2 and len(row["services"]) == 2 for row in response.data["results"])
    assert all(row["success_rate"] == 0.5 for row in response.data["results"])
