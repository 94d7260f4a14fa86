"""REST API: action runs: four-eyes approval, rejection, cancel, refused transitions and a lost
race; runs change only through those actions."""

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
from tests.actions.api_support import api_url, client_for, request_run

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
    assert sent == [{"kwargs": {"run_id": run.pk}, "task_id": run.task_id, "eta": None, "retry": False}]


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


# --- Writes -------------------------------------------------------------------------------------------


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
