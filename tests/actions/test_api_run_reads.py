"""REST API: action runs: list, filters and detail with step output, in a constant number of
queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions.choices import RunStatus
from actions.models import ActionRun
from tests.actions.api_support import api_url, client_for, token_client

pytestmark = pytest.mark.django_db


# --- Detail and list ----------------------------------------------------------------------------------


def test_retrieve_shows_what_each_step_did(viewer, action_run_factory, step_run_factory):
    run = action_run_factory(finished=True)
    second = step_run_factory(
        run=run,
        step_order=20,
        step_name="Check",
        status="failed",
        attempts=3,
        exit_code=7,
        stdout="partial",
        stderr="x" * 10,
        stderr_truncated=True,
        error="curl: (7) Failed to connect",
    )
    first = step_run_factory(run=run, step_order=10, step_name="Restart")

    response = client_for(viewer).get(api_url("action-runs", run))

    assert response.status_code == 200, response.data
    assert response.data["duration_seconds"] == pytest.approx(60, abs=1)
    rows = response.data["step_runs"]
    assert [row["id"] for row in rows] == [first.pk, second.pk]
    check = rows[1]
    assert check["step_name"] == "Check"
    assert (check["status"], check["attempts"], check["exit_code"]) == ("failed", 3, 7)
    assert (check["stdout"], check["stderr"]) == ("partial", "x" * 10)
    assert (check["stdout_truncated"], check["stderr_truncated"]) == (False, True)
    assert check["error"] == "curl: (7) Failed to connect"
    assert check["duration_seconds"] == pytest.approx(2, abs=1)
    assert check["provider"] == second.provider.name
    assert check["host"] == second.provider.name
    assert check["command"] == "echo ok"


def test_list_is_newest_first_without_step_output(viewer, action_run_factory, step_run_factory):
    old = action_run_factory()
    new = action_run_factory()
    step_run_factory(run=new, stdout="secret-ish output")
    ActionRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))

    response = client_for(viewer).get(api_url("action-runs"))

    assert response.status_code == 200
    assert [row["id"] for row in response.data["results"]] == [new.pk, old.pk]
    assert "step_runs" not in response.data["results"][0]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.data
    return sorted(row["id"] for row in response.data["results"])


def test_filter_by_status_takes_several(viewer, action_run_factory):
    pending = action_run_factory()
    running = action_run_factory(status=RunStatus.RUNNING)
    done = action_run_factory(finished=True)
    client = client_for(viewer)

    assert ids(client.get(api_url("action-runs"), {"status": "running"})) == [running.pk]
    assert ids(client.get(api_url("action-runs"), {"status": ["pending", "succeeded"]})) == [
        pending.pk,
        done.pk,
    ]
    bad = client.get(api_url("action-runs"), {"status": "exploded"})
    assert bad.status_code == 400
    assert "status" in bad.data


def test_filter_by_action_id_or_name(viewer, action_factory, action_run_factory):
    restart = action_factory(name="Restart nginx")
    mine = action_run_factory(action=restart)
    action_run_factory()
    client = client_for(viewer)

    assert ids(client.get(api_url("action-runs"), {"action": "Restart nginx"})) == [mine.pk]
    assert ids(client.get(api_url("action-runs"), {"action": restart.pk})) == [mine.pk]


def test_filter_by_incident_id_or_reference(viewer, open_incident, action_run_factory):
    incident = open_incident()
    linked = action_run_factory(incident=incident)
    action_run_factory()
    client = client_for(viewer)

    assert ids(client.get(api_url("action-runs"), {"incident": incident.reference})) == [linked.pk]
    assert ids(client.get(api_url("action-runs"), {"incident": incident.pk})) == [linked.pk]


def test_filter_by_requester_username_or_id(viewer, responder, action_run_factory):
    asked = action_run_factory(requested_by=responder)
    action_run_factory()
    client = client_for(viewer)

    assert ids(client.get(api_url("action-runs"), {"requested_by": "responder"})) == [asked.pk]
    assert ids(client.get(api_url("action-runs"), {"requested_by": responder.pk})) == [asked.pk]


def test_filter_by_creation_time(viewer, action_run_factory):
    now = timezone.now()
    old = action_run_factory()
    recent = action_run_factory()
    ActionRun.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=10))
    cutoff = (now - timedelta(days=1)).isoformat()
    client = client_for(viewer)

    assert ids(client.get(api_url("action-runs"), {"created_after": cutoff})) == [recent.pk]
    assert ids(client.get(api_url("action-runs"), {"created_before": cutoff})) == [old.pk]
    assert client.get(api_url("action-runs"), {"created_after": "yesterday"}).status_code == 400


# --- Query counts -------------------------------------------------------------------------------------
# Token authentication: token + user (1), permissions (2), then count (1) and the runs with their
# action, incident and people joined (1).
RUN_LIST_QUERIES = 5
# ... the run with its joins (1) and its step runs (1).
RUN_DETAIL_QUERIES = 5


@pytest.mark.parametrize("size", [1, 30])
def test_run_list_runs_a_constant_number_of_queries(
    viewer,
    responder,
    approver,
    open_incident,
    action_factory,
    action_run_factory,
    size,
    django_assert_num_queries,
):
    incident = open_incident()
    actions = [action_factory() for _ in range(3)]
    for i in range(size):
        action_run_factory(
            action=actions[i % 3],
            incident=incident,
            requested_by=responder,
            decided_by=approver,
            cancelled_by=responder,
            status=RunStatus.CANCELLED,
        )
    client = token_client(viewer)

    with django_assert_num_queries(RUN_LIST_QUERIES):
        response = client.get(api_url("action-runs"))

    assert len(response.data["results"]) == size
    row = response.data["results"][0]
    assert (row["incident"], row["requested_by"], row["decided_by"]) == (
        incident.reference,
        "responder",
        "approver",
    )


@pytest.mark.parametrize("steps", [1, 30])
def test_run_detail_runs_a_constant_number_of_queries(
    viewer, action_run_factory, step_run_factory, steps, django_assert_num_queries
):
    run = action_run_factory(finished=True)
    for i in range(steps):
        step_run_factory(run=run, step_order=i)
    client = token_client(viewer)

    with django_assert_num_queries(RUN_DETAIL_QUERIES):
        response = client.get(api_url("action-runs", run))

    assert len(response.data["step_runs"]) == steps
