"""REST API: action runs: list, filters and detail with step output; four-eyes approval, rejection,
cancel, refused transitions and a lost race."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions.api.views.runs import ActionRunViewSet
from actions.choices import RunStatus
from actions.models import ActionRun
from actions.services import action_run_cancel
from actions.tasks import execute_action_run
from common.actor import Actor, Source
from incidents.choices import EventKind
from tests.actions.api_support import api_url, client_for, request_run, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_approver(user_factory):
    return user_factory(username="approver2", groups=["Approver"])


@pytest.fixture
def awaiting(runnable_action, approver):
    """A high-risk run the approver asked for: waiting for someone else to approve it."""
    run = request_run(runnable_action(risk="high", name="Failover db"), approver)
    assert run.status == RunStatus.AWAITING_APPROVAL
    return run


def refresh(run: ActionRun) -> ActionRun:
    return ActionRun.objects.get(pk=run.pk)


# --- Four eyes --------------------------------------------------------------------------------------


def test_the_requester_cannot_approve_their_own_run(approver, awaiting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(approver).post(api_url("action-runs", awaiting, "approve"), {"comment": "ok"})

    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    assert "own" in response.data["detail"]
    assert refresh(awaiting).status == RunStatus.AWAITING_APPROVAL
    assert callbacks == []


def test_another_approver_approves_and_the_run_is_scheduled(
    second_approver, awaiting, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(second_approver).post(
            api_url("action-runs", awaiting, "approve"), {"comment": "Change CHG-42 approved"}
        )

    assert response.status_code == 200, response.data
    assert response.data["status"] == RunStatus.SCHEDULED
    assert response.data["decided_by"] == "approver2"
    assert response.data["decision_comment"] == "Change CHG-42 approved"
    assert response.data["decided_at"] is not None
    run = refresh(awaiting)
    assert run.status == RunStatus.SCHEDULED
    assert run.task_id
    # The execute task is enqueued on commit: recorded here, not sent, so nothing executes.
    assert len(callbacks) == 1
    sent = []
    monkeypatch.setattr(execute_action_run, "apply_async", lambda **kwargs: sent.append(kwargs))
    callbacks[0]()
    assert sent == [{"args": [run.pk, run.task_id], "task_id": run.task_id, "eta": None}]


def test_approve_without_a_comment(second_approver, awaiting):
    response = client_for(second_approver).post(api_url("action-runs", awaiting, "approve"))

    assert response.status_code == 200, response.data
    assert response.data["decision_comment"] == ""


def test_a_responder_may_not_approve(responder, awaiting):
    response = client_for(responder).post(api_url("action-runs", awaiting, "approve"))

    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    assert refresh(awaiting).status == RunStatus.AWAITING_APPROVAL


def test_reject_with_a_comment(second_approver, awaiting, open_incident, django_capture_on_commit_callbacks):
    incident = open_incident()
    ActionRun.objects.filter(pk=awaiting.pk).update(incident=incident)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(second_approver).post(
            api_url("action-runs", awaiting, "reject"), {"comment": "Not during peak hours"}
        )

    assert response.status_code == 200, response.data
    assert response.data["status"] == RunStatus.REJECTED
    assert response.data["decided_by"] == "approver2"
    assert response.data["decision_comment"] == "Not during peak hours"
    assert response.data["finished_at"] is not None
    assert callbacks == []
    event = incident.timeline_events.get(kind=EventKind.ACTION_REJECTED)
    assert event.details["comment"] == "Not during peak hours"
    assert event.source == Source.API


def test_approving_a_run_twice_is_409(second_approver, awaiting, user_factory):
    first = client_for(second_approver).post(api_url("action-runs", awaiting, "approve"))
    third = user_factory(groups=["Approver"])
    second = client_for(third).post(api_url("action-runs", awaiting, "reject"), {"comment": "no"})

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.data["code"] == "transition_not_allowed"
    assert second.data["status"] == RunStatus.SCHEDULED
    assert refresh(awaiting).decision_comment == ""


def test_approving_after_the_window_closed_expires_the_run(second_approver, awaiting):
    ActionRun.objects.filter(pk=awaiting.pk).update(approval_expires_at=timezone.now() - timedelta(minutes=1))

    response = client_for(second_approver).post(api_url("action-runs", awaiting, "approve"))

    assert response.status_code == 409
    assert response.data["code"] == "transition_not_allowed"
    assert "expired" in response.data["detail"]
    assert refresh(awaiting).status == RunStatus.EXPIRED


def test_a_lost_race_is_409_conflict(second_approver, awaiting, approver, monkeypatch):
    """The approver read the run awaiting approval; before the approval is written, the requester
    cancels it. Only the stale-state check can refuse the approval."""
    read = ActionRunViewSet.get_object

    def read_then_lose_the_race(view):
        seen = read(view)
        action_run_cancel(run=refresh(seen), by=Actor(user=approver, source=Source.ADMIN))
        return seen

    monkeypatch.setattr(ActionRunViewSet, "get_object", read_then_lose_the_race)

    response = client_for(second_approver).post(api_url("action-runs", awaiting, "approve"))

    assert response.status_code == 409
    assert response.data["code"] == "conflict"
    assert response.data["status"] == RunStatus.CANCELLED
    run = refresh(awaiting)
    assert run.status == RunStatus.CANCELLED
    assert run.decided_by is None


@pytest.mark.parametrize("body", [{"comment": "x", "reason": "typo"}, {"comment": ["a"]}])
def test_bad_decision_input_is_400(second_approver, awaiting, body):
    response = client_for(second_approver).post(api_url("action-runs", awaiting, "reject"), body)

    assert response.status_code == 400
    assert refresh(awaiting).status == RunStatus.AWAITING_APPROVAL


# --- Cancel -------------------------------------------------------------------------------------------


def test_cancel_a_scheduled_run(responder, runnable_action):
    run = request_run(runnable_action(), responder)
    assert run.status == RunStatus.SCHEDULED

    response = client_for(responder).post(api_url("action-runs", run, "cancel"))

    assert response.status_code == 200, response.data
    assert response.data["status"] == RunStatus.CANCELLED
    assert response.data["cancelled_by"] == "responder"
    assert response.data["finished_at"] is not None
    assert "before it started" in response.data["error"]


def test_cancel_a_running_run_flags_it_for_the_executor(responder, action_run_factory):
    run = action_run_factory(status=RunStatus.RUNNING, started_at=timezone.now())

    response = client_for(responder).post(api_url("action-runs", run, "cancel"))

    assert response.status_code == 200, response.data
    assert response.data["status"] == RunStatus.RUNNING
    assert response.data["cancel_requested_at"] is not None
    assert response.data["cancelled_by"] == "responder"


def test_cancel_a_finished_run_is_409(responder, action_run_factory):
    run = action_run_factory(finished=True)

    response = client_for(responder).post(api_url("action-runs", run, "cancel"))

    assert response.status_code == 409
    assert response.data["code"] == "transition_not_allowed"
    assert response.data["status"] == RunStatus.SUCCEEDED


def test_a_viewer_may_not_cancel(viewer, responder, runnable_action):
    run = request_run(runnable_action(), responder)

    response = client_for(viewer).post(api_url("action-runs", run, "cancel"))

    assert response.status_code == 403
    assert refresh(run).status == RunStatus.SCHEDULED


def test_cancel_of_an_unknown_run_is_404(responder):
    assert client_for(responder).post("/api/v1/action-runs/999999/cancel/").status_code == 404


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


def test_query_parameters_do_not_filter_the_run_an_action_works_on(responder, runnable_action):
    run = request_run(runnable_action(), responder)

    response = client_for(responder).post(api_url("action-runs", run, "cancel") + "?status=succeeded")

    assert response.status_code == 200


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_runs_change_only_through_their_actions(responder, action_run_factory, method):
    run = action_run_factory()

    response = getattr(client_for(responder), method)(api_url("action-runs", run), {"status": "succeeded"})

    assert response.status_code == 405
    assert refresh(run).status == RunStatus.PENDING


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
