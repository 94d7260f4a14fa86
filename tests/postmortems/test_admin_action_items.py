"""The action items admin: inline on the post-mortem, filters, transitions and bulk actions, and
what read-only viewers see."""

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from common.actor import Source
from incidents.models import TimelineEvent
from postmortems.choices import ActionItemStatus, PostmortemStatus
from postmortems.models import ActionItem, Postmortem
from postmortems.services import action_item_create
from tests.admin_support import admin_url, flashed, form_data
from tests.postmortems.admin_support import buttons, logged_in, ready

pytestmark = pytest.mark.django_db

url = partial(admin_url, "postmortems")


# --- Action items ----------------------------------------------------------------------------------


def item(postmortem, actor, owner, due, **data):
    return action_item_create(
        postmortem=postmortem,
        by=actor,
        data={"description": "Add an alert", "kind": "monitoring", "owner": owner, "due_date": due, **data},
    )


def test_action_item_added_and_edited_inline(client, responder, postmortem):
    client = logged_in(client, responder)
    page = client.get(url("postmortem_change", postmortem.pk))
    due = (timezone.localdate() + timedelta(days=7)).isoformat()
    data = form_data(
        page,
        **{
            "action_items-0-description": "Alert on pool saturation",
            "action_items-0-kind": "monitoring",
            "action_items-0-owner": str(responder.pk),
            "action_items-0-due_date": due,
        },
    )
    response = client.post(url("postmortem_change", postmortem.pk), data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    created = ActionItem.objects.get()
    assert created.description == "Alert on pool saturation" and created.status == ActionItemStatus.OPEN
    assert TimelineEvent.objects.filter(message__startswith="Action item added").exists()

    page = client.get(url("postmortem_change", postmortem.pk))
    data = form_data(page, **{"action_items-0-description": "Alert on pool saturation at 80%"})
    client.post(url("postmortem_change", postmortem.pk), data)
    created.refresh_from_db()
    assert created.description == "Alert on pool saturation at 80%"


def test_action_item_filters(admin_client, postmortem, actor, responder, approver):
    today = timezone.localdate()
    late = item(postmortem, actor, responder, today - timedelta(days=3), description="Late one")
    item(postmortem, actor, approver, today + timedelta(days=3), description="Soon one", kind="runbook")
    done_late = item(postmortem, actor, responder, today - timedelta(days=5), description="Done late")
    from postmortems.services import action_item_complete

    action_item_complete(item=done_late, by=actor)
    web = postmortem.incident.services.first()

    def descriptions(query: str) -> set[str]:
        response = admin_client.get(url("actionitem_changelist") + query)
        assert response.status_code == 200
        return {i.description for i in response.context["cl"].result_list}

    assert descriptions("") == {"Late one", "Soon one", "Done late"}
    assert descriptions("?overdue=yes") == {"Late one"}
    assert descriptions("?overdue=no") == {"Soon one", "Done late"}
    assert descriptions(f"?owner__id__exact={approver.pk}") == {"Soon one"}
    assert descriptions("?status__exact=done") == {"Done late"}
    assert descriptions("?kind__exact=runbook") == {"Soon one"}
    if web is not None:
        assert descriptions(f"?postmortem__incident__services__id__exact={web.pk}") == {
            "Late one",
            "Soon one",
            "Done late",
        }
    page = admin_client.get(url("actionitem_changelist")).content.decode()
    assert 'class="pm-overdue"' in page and late.due_date.isoformat() in page


def test_action_item_changelist_pinned_query_count(
    admin_client, postmortem, actor, responder, django_assert_num_queries
):
    due = timezone.localdate()
    item(postmortem, actor, responder, due)
    with django_assert_num_queries(6):
        admin_client.get(url("actionitem_changelist"))
    for n in range(9):
        item(postmortem, actor, responder, due, description=f"Item {n}")
    with django_assert_num_queries(6):
        admin_client.get(url("actionitem_changelist"))


def test_action_item_transitions(client, responder, postmortem, actor):
    it = item(postmortem, actor, responder, timezone.localdate())
    client = logged_in(client, responder)

    def names() -> set[str]:
        return {b["name"] for b in client.get(url("actionitem_change", it.pk)).context["item_transitions"]}

    assert names() == {"start", "complete", "drop"}
    client.post(url("actionitem_transition", it.pk, "start"), {"seen_status": "open"})
    it.refresh_from_db()
    assert it.status == ActionItemStatus.IN_PROGRESS
    assert names() == {"complete", "drop"}

    response = client.post(
        url("actionitem_transition", it.pk, "drop"), {"seen_status": "in_progress", "reason": ""}
    )
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    client.post(
        url("actionitem_transition", it.pk, "drop"), {"seen_status": "in_progress", "reason": "Replaced by X"}
    )
    it.refresh_from_db()
    assert it.status == ActionItemStatus.WONT_DO and it.wont_do_reason == "Replaced by X"
    assert names() == {"reopen"}

    client.post(url("actionitem_transition", it.pk, "reopen"), {"seen_status": "wont_do"})
    client.post(url("actionitem_transition", it.pk, "complete"), {"seen_status": "open"})
    it.refresh_from_db()
    assert it.status == ActionItemStatus.DONE and it.completed_at is not None


def test_action_item_bulk_actions(client, responder, postmortem, actor):
    due = timezone.localdate()
    a, b = item(postmortem, actor, responder, due), item(postmortem, actor, responder, due)
    client = logged_in(client, responder)
    changelist = url("actionitem_changelist")
    client.post(changelist, {"action": "start_selected", "_selected_action": [a.pk]})
    response = client.post(changelist, {"action": "start_selected", "_selected_action": [a.pk, b.pk]})
    assert any("Cannot start" in m for m in flashed(response))  # a was started already.
    client.post(changelist, {"action": "complete_selected", "_selected_action": [a.pk, b.pk]})
    assert set(ActionItem.objects.values_list("status", flat=True)) == {ActionItemStatus.DONE}


# --- Viewers ---------------------------------------------------------------------------------------


def test_viewer_reads_but_cannot_write(client, viewer, postmortem, actor):
    it = item(postmortem, actor, actor.user, timezone.localdate())
    entry = postmortem.entries.first()
    client = logged_in(client, viewer)
    page = client.get(url("postmortem_change", postmortem.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="executive_summary"' not in body and "Regenerate from the incident" not in body
    assert buttons(page) == set() and page.context["pm_review_url"] is None
    assert client.post(url("postmortem_change", postmortem.pk), {}).status_code == 403
    assert (
        client.post(url("postmortem_timeline", postmortem.pk, "pin"), {"entry": entry.pk}).status_code == 403
    )
    assert client.get(url("postmortem_review", postmortem.pk)).status_code == 403
    assert client.post(url("postmortem_transition", postmortem.pk, "submit"), {}).status_code == 403
    assert client.get(url("actionitem_changelist")).status_code == 200
    assert client.get(url("actionitem_change", it.pk)).context["item_transitions"] == []
    assert client.post(url("actionitem_transition", it.pk, "start"), {}).status_code == 403
    entry.refresh_from_db()
    assert not entry.pinned
    assert Postmortem.objects.get().status == PostmortemStatus.DRAFT
    assert ActionItem.objects.get().status == ActionItemStatus.OPEN


def test_writes_are_recorded_as_from_the_admin(admin_client, postmortem, actor):
    ready(postmortem, actor)
    admin_client.post(url("postmortem_transition", postmortem.pk, "submit"), {"seen_status": "draft"})
    event = TimelineEvent.objects.filter(kind="postmortem").order_by("-id").first()
    assert event.message == "Post-mortem submitted for review."
    assert event.source == Source.ADMIN
