"""postmortems.services: the automatic draft, the close condition, sections and the lifecycle (the
generated timeline and the Markdown: test_timeline.py)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from common.actor import Actor, Source
from common.exceptions import ConflictError, PermissionDeniedError, TransitionNotAllowedError
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident
from incidents.services import incident_acknowledge, incident_close, incident_resolve
from postmortems.choices import PostmortemStatus
from postmortems.models import Postmortem
from postmortems.receivers import draft_on_resolution
from postmortems.services import (
    postmortem_create,
    postmortem_draft_for_resolved,
    postmortem_drafts_sweep,
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_submit,
    postmortem_update,
    review_suggestion,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(open_incident, human, priorities):
    def make(code="P2", **kwargs):
        incident = open_incident(priority=priorities[code], **kwargs)
        incident = incident_acknowledge(incident=incident, by=human)
        return incident_resolve(incident=incident, by=human, summary="Rolled back the deploy.")

    return make


def ready(postmortem, by):
    postmortem = postmortem_update(
        postmortem=postmortem,
        by=by,
        data={"executive_summary": "Checkout failed.", "root_cause": "A bad deploy."},
    )
    return postmortem_submit(postmortem=postmortem, by=by)


# --- the draft -------------------------------------------------------------------------------------


def test_resolving_a_p2_enqueues_its_draft_and_the_task_writes_it(
    resolved, django_capture_on_commit_callbacks, monkeypatch
):
    from postmortems.tasks import create_postmortem_draft

    sent = []
    monkeypatch.setattr(create_postmortem_draft, "apply_async", lambda **kw: sent.append(kw["kwargs"]))
    with django_capture_on_commit_callbacks(execute=True):
        incident = resolved("P2")
    assert sent == [{"incident_id": incident.pk}]

    postmortem = postmortem_draft_for_resolved(incident_id=incident.pk)

    assert postmortem.status == PostmortemStatus.DRAFT and postmortem.severity == "P2"
    assert postmortem.created_by is None
    assert postmortem_draft_for_resolved(incident_id=incident.pk) is None  # Idempotent.


def test_no_draft_for_lower_priorities(resolved, django_capture_on_commit_callbacks, monkeypatch):
    from postmortems.tasks import create_postmortem_draft

    sent = []
    monkeypatch.setattr(create_postmortem_draft, "apply_async", lambda **kw: sent.append(kw["kwargs"]))
    with django_capture_on_commit_callbacks(execute=True):
        incident = resolved("P3")
    assert sent == []
    assert postmortem_draft_for_resolved(incident_id=incident.pk) is None


def test_the_receiver_ignores_other_transitions(open_incident, monkeypatch, priorities):
    from postmortems.tasks import create_postmortem_draft

    sent = []
    monkeypatch.setattr(create_postmortem_draft, "apply_async", lambda **kw: sent.append(kw["kwargs"]))
    draft_on_resolution(Incident, incident=open_incident(priority=priorities["P1"]), transition="acknowledge")
    assert sent == []


def test_the_sweeper_drafts_what_a_lost_message_missed(resolved):
    incident = resolved("P1")
    assert postmortem_drafts_sweep() == 1
    assert Postmortem.objects.get().incident == incident
    assert postmortem_drafts_sweep() == 0


def test_create_prefills_from_the_record(resolved, human, user_factory, service_factory):
    commander = user_factory(username="cmdr")
    web = service_factory(name="Web")
    incident = resolved("P1", commander=commander, services=[web], users_affected="many")

    postmortem = postmortem_create(incident=incident, by=human)

    assert list(postmortem.authors.all()) == [commander]
    assert list(postmortem.services_impacted.all()) == [web]
    assert postmortem.users_affected == "Many users"
    assert postmortem.resolution.startswith("Rolled back the deploy.")
    assert "Opened by a person" in postmortem.detection
    event = incident.timeline_events.get(kind=EventKind.POSTMORTEM)
    assert event.message == "Post-mortem drafted." and event.actor == human.user
    with pytest.raises(ConflictError):
        postmortem_create(incident=incident, by=human)


def test_a_viewer_cannot_write_one(resolved, viewer):
    with pytest.raises(PermissionDeniedError):
        postmortem_create(incident=resolved(), by=Actor(user=viewer, source=Source.API))


# --- closing needs it ------------------------------------------------------------------------------


def test_a_p1_or_p2_closes_only_with_its_post_mortem_in_review(resolved, human):
    incident = resolved("P1")
    with pytest.raises(TransitionNotAllowedError, match="write its post-mortem"):
        incident_close(incident=incident, by=human)

    postmortem = postmortem_create(incident=incident, by=human)
    with pytest.raises(TransitionNotAllowedError, match="still a draft"):
        incident_close(incident=Incident.objects.get(pk=incident.pk), by=human)
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RESOLVED

    ready(postmortem, human)
    closed = incident_close(incident=Incident.objects.get(pk=incident.pk), by=human)
    assert closed.status == IncidentStatus.CLOSED


def test_a_p3_closes_without_one(resolved, human):
    assert incident_close(incident=resolved("P3"), by=human).status == IncidentStatus.CLOSED


# --- sections and lifecycle ------------------------------------------------------------------------


def test_sections_are_validated_and_nothing_is_saved_on_error(resolved, human):
    postmortem = postmortem_create(incident=resolved(), by=human)
    with pytest.raises(ValidationError) as error:
        postmortem_update(
            postmortem=postmortem,
            by=human,
            data={
                "root_cause": "Saved? No.",
                "five_whys": [{"question": ""}],
                "supporting_links": [{"url": "javascript:alert(1)"}],
                "status": "published",
            },
        )
    assert set(error.value.message_dict) == {"five_whys", "supporting_links", "status"}
    assert Postmortem.objects.get().root_cause == ""

    updated = postmortem_update(
        postmortem=postmortem,
        by=human,
        data={"five_whys": [{"question": " Why did checkout fail? ", "answer": "Pool exhausted."}]},
    )
    assert updated.five_whys == [{"question": "Why did checkout fail?", "answer": "Pool exhausted."}]


def test_lifecycle_submit_return_publish(resolved, human, approver_actor):
    postmortem = postmortem_create(incident=resolved(), by=human)
    with pytest.raises(ValidationError) as error:
        postmortem_submit(postmortem=postmortem, by=human)
    assert set(error.value.message_dict) == {"executive_summary", "root_cause"}

    in_review = ready(postmortem, human)
    assert in_review.status == PostmortemStatus.IN_REVIEW and in_review.submitted_at
    back = postmortem_return_to_draft(postmortem=in_review, by=human, reason="Add the five whys.")
    assert back.status == PostmortemStatus.DRAFT
    in_review = postmortem_submit(postmortem=back, by=human)

    with pytest.raises(PermissionDeniedError):
        postmortem_publish(postmortem=in_review, by=human)  # Responders write; approvers publish.
    published = postmortem_publish(postmortem=in_review, by=approver_actor)
    assert published.status == PostmortemStatus.PUBLISHED and published.published_at
    with pytest.raises(TransitionNotAllowedError, match="published"):
        postmortem_update(postmortem=published, by=human, data={"lessons_learned": "Too late."})
    messages = list(
        published.incident.timeline_events.filter(kind=EventKind.POSTMORTEM).values_list("message", flat=True)
    )
    assert messages == [
        "Post-mortem drafted.",
        "Post-mortem submitted for review.",
        "Post-mortem returned to draft: Add the five whys.",
        "Post-mortem submitted for review.",
        "Post-mortem published.",
    ]


def test_a_stale_copy_loses_the_race(resolved, human):
    postmortem = postmortem_create(incident=resolved(), by=human)
    stale = Postmortem.objects.get(pk=postmortem.pk)
    ready(postmortem, human)
    with pytest.raises(ConflictError):
        postmortem_submit(postmortem=stale, by=human)


def test_review_suggestion_is_a_day_after_resolution_or_soon(resolved):
    incident = resolved()
    at = review_suggestion(incident, now=incident.resolved_at)
    assert timedelta(hours=24) < at - incident.resolved_at <= timedelta(hours=25) and at.minute == 0
    later = incident.resolved_at + timedelta(days=5)
    assert timedelta(0) < review_suggestion(incident, now=later) - later <= timedelta(hours=1)
