"""Post-mortems REST API: action items (create, edit, transitions, filters) and their list's query
count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from postmortems.choices import ActionItemStatus
from postmortems.models import ActionItem
from postmortems.services import action_item_create
from tests.actions.api_support import api_url, token_client
from tests.actions.factories import ActionFactory
from tests.postmortems.api_support import item_data

pytestmark = pytest.mark.django_db


# --- Action items -------------------------------------------------------------------------------


def test_action_item_create_update_and_transitions(responder_client, make_postmortem, responder):
    postmortem = make_postmortem()
    due = timezone.localdate() + timedelta(days=3)

    created = responder_client.post(
        api_url("action-items"),
        {
            "postmortem": postmortem.pk,
            "description": "Add a canary",
            "kind": "automation",
            "owner": "responder",
            "due_date": due.isoformat(),
            "follow_up_url": "https://tickets.example.com/OPS-1",
        },
    )
    assert created.status_code == 201, created.data
    assert created.data["owner"] == responder.username
    assert created.data["incident"] == postmortem.incident.reference
    assert created.data["status"] == ActionItemStatus.OPEN and created.data["overdue"] is False
    item_url = api_url("action-items", created.data["id"])

    assert responder_client.patch(item_url, {"kind": "nonsense"}).status_code == 400
    assert responder_client.patch(item_url, {"description": "Add a canary stage"}).data["description"] == (
        "Add a canary stage"
    )
    assert responder_client.post(f"{item_url}start/").data["status"] == ActionItemStatus.IN_PROGRESS
    no_reason = responder_client.post(f"{item_url}drop/", {"reason": " "})
    assert no_reason.status_code == 400 and no_reason.data["reason"]
    assert responder_client.post(f"{item_url}drop/").status_code == 400
    assert ActionItem.objects.get(pk=created.data["id"]).status == ActionItemStatus.IN_PROGRESS
    dropped = responder_client.post(f"{item_url}drop/", {"reason": "Replaced by the new pipeline"})
    assert dropped.status_code == 200
    assert dropped.data["status"] == ActionItemStatus.WONT_DO
    assert dropped.data["wont_do_reason"] == "Replaced by the new pipeline"
    assert responder_client.post(f"{item_url}complete/").status_code == 409
    assert responder_client.post(f"{item_url}reopen/").data["status"] == ActionItemStatus.OPEN
    done = responder_client.post(f"{item_url}complete/")
    assert done.data["status"] == ActionItemStatus.DONE and done.data["completed_at"]
    assert responder_client.delete(item_url).status_code == 405

    detail = responder_client.get(api_url("postmortems", postmortem)).data
    assert [item["id"] for item in detail["action_items"]] == [created.data["id"]]


def test_action_item_filters(responder_client, make_postmortem, actor, user_factory, service_factory):
    first = make_postmortem()
    second = make_postmortem(title="Login slow", services=[service_factory(slug="auth")])
    other = user_factory(username="other")
    today = timezone.localdate()
    late = action_item_create(
        postmortem=first, by=actor, data=item_data(actor.user, due_date=today - timedelta(days=2))
    )
    soon = action_item_create(postmortem=first, by=actor, data=item_data(other, kind="runbook"))
    done_late = action_item_create(
        postmortem=second, by=actor, data=item_data(other, due_date=today - timedelta(days=5))
    )
    responder_client.post(api_url("action-items", done_late, "complete"))

    def ids(**params) -> list[int]:
        response = responder_client.get(api_url("action-items"), params)
        assert response.status_code == 200, response.data
        return [row["id"] for row in response.data["results"]]

    assert ids() == [done_late.pk, late.pk, soon.pk]
    assert ids(overdue="true") == [late.pk]
    assert ids(overdue="false") == [done_late.pk, soon.pk]
    assert ids(owner="other") == [done_late.pk, soon.pk]
    assert ids(owner=str(actor.user.pk)) == [late.pk]
    assert ids(status="done") == [done_late.pk]
    assert ids(kind="runbook") == [soon.pk]
    assert ids(postmortem=str(second.pk)) == [done_late.pk]
    assert ids(service="auth") == [done_late.pk]
    assert ids(incident=first.incident.reference) == [late.pk, soon.pk]
    listed = responder_client.get(api_url("action-items"), {"overdue": "true"}).data["results"][0]
    assert listed["overdue"] is True


# --- Query counts -------------------------------------------------------------------------------

# Token, user and group permissions, count, page.
ACTION_ITEM_LIST_QUERIES = 5


@pytest.mark.parametrize("size", [1, 10])
def test_action_item_list_runs_a_constant_number_of_queries(
    viewer, make_postmortem, actor, size, django_assert_num_queries
):
    postmortem = make_postmortem()
    for _ in range(size):
        action_item_create(
            postmortem=postmortem, by=actor, data=item_data(actor.user, follow_up_action=ActionFactory())
        )
    client = token_client(viewer)

    with django_assert_num_queries(ACTION_ITEM_LIST_QUERIES):
        listed = client.get(api_url("action-items"))

    assert len(listed.data["results"]) == size
    assert all(row["follow_up_action"] for row in listed.data["results"])
