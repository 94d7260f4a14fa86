"""The Approve / Reject / Cancel buttons of a run's page and the pages behind them."""

import pytest

from actions.choices import RunStatus
from tests.actions.run_support import buttons, decide_url, request_run, run_url
from tests.admin_support import flashed

# --- Approve, reject, cancel -----------------------------------------------------------------------


def test_buttons_follow_permission_and_status(client, viewer, responder, approver, awaiting):
    client.force_login(viewer)
    assert buttons(client.get(run_url(awaiting))) == []
    client.force_login(responder)
    assert buttons(client.get(run_url(awaiting))) == ["cancel"]
    client.force_login(approver)
    assert buttons(client.get(run_url(awaiting))) == ["approve", "reject", "cancel"]


def test_approve_schedules_the_run(client, approver, awaiting, django_capture_on_commit_callbacks):
    client.force_login(approver)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(decide_url(awaiting, "approve"), {"seen_status": RunStatus.AWAITING_APPROVAL})

    awaiting.refresh_from_db()
    assert response.status_code == 302 and response.url == run_url(awaiting)
    assert (awaiting.status, awaiting.decided_by) == (RunStatus.SCHEDULED, approver)
    assert flashed(response) == [f"Run #{awaiting.pk} of Health check was approved: it starts in a moment."]
    assert len(callbacks) == 1


def test_four_eyes_refusal_is_a_message(client, health_check, approver):
    own = request_run(health_check, approver, require_approval=True)
    client.force_login(approver)

    page = client.get(run_url(own))
    assert "You requested this run: another approver must approve it." in page.content.decode()
    response = client.post(decide_url(own, "approve"), {"seen_status": RunStatus.AWAITING_APPROVAL})

    assert response.status_code == 302
    assert flashed(response) == ["You cannot approve your own request: another approver must."]
    own.refresh_from_db()
    assert own.status == RunStatus.AWAITING_APPROVAL


def test_reject_asks_why(client, approver, awaiting):
    client.force_login(approver)

    page = client.get(decide_url(awaiting, "reject"))
    assert page.status_code == 200
    assert "Why not" in page.content.decode()
    empty = client.post(decide_url(awaiting, "reject"), {"seen_status": RunStatus.AWAITING_APPROVAL})
    assert empty.status_code == 200
    assert empty.context["form"].errors["comment"]
    response = client.post(
        decide_url(awaiting, "reject"),
        {"seen_status": RunStatus.AWAITING_APPROVAL, "comment": "Not during peak hours."},
    )

    awaiting.refresh_from_db()
    assert response.status_code == 302
    assert (awaiting.status, awaiting.decision_comment) == (RunStatus.REJECTED, "Not during peak hours.")
    assert flashed(response) == [f"Run #{awaiting.pk} of Health check was rejected."]
    assert buttons(client.get(run_url(awaiting))) == []


def test_cancel_a_scheduled_run(client, responder, health_check):
    run = request_run(health_check, responder)
    client.force_login(responder)

    response = client.post(decide_url(run, "cancel"), {"seen_status": RunStatus.SCHEDULED})

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert flashed(response) == [f"Run #{run.pk} of Health check was cancelled."]


def test_cancel_a_running_run_flags_it(client, responder, action_run_factory):
    run = action_run_factory(status=RunStatus.RUNNING)
    client.force_login(responder)

    response = client.post(decide_url(run, "cancel"), {"seen_status": RunStatus.RUNNING})

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.cancel_requested_at is not None
    assert flashed(response) == [f"Cancelling run #{run.pk}: its command is being stopped."]
    page = client.get(run_url(run))
    assert buttons(page) == []
    assert "cancelling…" in page.content.decode()


def test_a_stale_page_is_a_conflict_message(client, approver, awaiting):
    client.force_login(approver)

    response = client.post(decide_url(awaiting, "approve"), {"seen_status": RunStatus.SCHEDULED})

    assert "changed while you were looking at it" in flashed(response)[0]
    awaiting.refresh_from_db()
    assert awaiting.status == RunStatus.AWAITING_APPROVAL


def test_deciding_a_finished_run_is_a_message(client, approver, action_run_factory):
    run = action_run_factory(finished=True)
    client.force_login(approver)

    page = client.get(decide_url(run, "approve"))
    assert page.status_code == 302
    assert flashed(page) == [f"Run #{run.pk} is succeeded: nothing to approve."]
    response = client.post(decide_url(run, "approve"), {"seen_status": RunStatus.SUCCEEDED})

    assert response.status_code == 302
    assert flashed(response)[-1] == f"Run #{run.pk} is succeeded: nothing to approve."


@pytest.mark.parametrize(
    ("who", "decision"), [("viewer", "cancel"), ("responder", "approve"), ("responder", "reject")]
)
def test_decisions_need_their_permission(client, request, who, decision, awaiting):
    client.force_login(request.getfixturevalue(who))

    assert client.post(decide_url(awaiting, decision), {"comment": "x"}).status_code == 403
    awaiting.refresh_from_db()
    assert awaiting.status == RunStatus.AWAITING_APPROVAL
