"""Closing and dismissing an incident: closed_at, the post-mortem a P1/P2 needs before it closes,
and dismissal as a duplicate or for another reason."""

import pytest
from django.core.exceptions import ValidationError
from django_fsm import can_proceed

from common.actor import Actor, Source
from common.exceptions import TransitionNotAllowedError
from incidents.choices import DismissalReason, EventKind, IncidentStatus
from incidents.models import Incident
from incidents.services import (
    TRANSITION_SERVICES,
    incident_acknowledge,
    incident_auto_resolve,
    incident_close,
    incident_dismiss,
    incident_resolve,
)
from postmortems.choices import PostmortemStatus
from postmortems.models import Postmortem
from postmortems.services import postmortem_create, postmortem_publish, postmortem_return_to_draft
from tests.incidents.support import AUTOMATION, drive, events, postmortem_ready, snapshot

S = IncidentStatus


def test_close_after_dismissal_is_refused_and_close_sets_closed_at(open_incident, actor, clock):
    incident = drive(open_incident(), "resolved", human=actor)
    clock.advance(days=1)
    incident = TRANSITION_SERVICES["close"](incident=incident, by=actor)
    assert incident.closed_at == clock.now
    assert events(incident)[-1].message == "Closed by responder."
    assert events(incident)[-1].details == {"from": S.RESOLVED, "to": S.CLOSED}


# --- A P1/P2 closes only with its post-mortem in review or published --------------------------------


def _refused_close(incident, by, message: str) -> None:
    before = snapshot(incident)
    with pytest.raises(TransitionNotAllowedError) as exc:
        incident_close(incident=incident, by=by, note="Done")
    assert exc.value.message == message
    assert {k: exc.value.extra[k] for k in ("status", "transition")} == {
        "status": S.RESOLVED,
        "transition": "close",
    }
    assert snapshot(incident) == before
    assert not events(incident, EventKind.CLOSED)


@pytest.mark.parametrize("code", ["P1", "P2"])
def test_closing_a_p1_or_p2_without_its_postmortem_is_refused(code, open_incident, actor, priorities):
    incident = incident_resolve(
        incident=incident_acknowledge(incident=open_incident(priority=priorities[code]), by=actor),
        by=actor,
        summary="Rolled back",
    )
    _refused_close(
        incident,
        actor,
        f"{incident.reference} is {code}: write its post-mortem and submit it for review before closing.",
    )


def test_closing_with_a_draft_postmortem_is_refused(open_incident, actor):
    incident = drive(open_incident(), "in_progress", human=actor)
    incident = incident_resolve(incident=incident, by=actor, summary="Rolled back")
    postmortem_create(incident=incident, by=actor)
    incident = Incident.objects.get(pk=incident.pk)
    _refused_close(
        incident,
        actor,
        f"{incident.reference} is P2: its post-mortem is still a draft; submit it for review before closing.",
    )
    # The transition's own condition says the same, whoever asks.
    assert not can_proceed(incident.close)


def test_closing_with_the_postmortem_in_review_or_published(open_incident, actor, user_factory, clock):
    approver = Actor(user=user_factory(username="approver", groups=["Approver"]), source=Source.API)
    reviewed = drive(open_incident(), "resolved", human=actor)
    assert reviewed.postmortem.status == PostmortemStatus.IN_REVIEW
    published = drive(open_incident(), "resolved", human=actor)
    postmortem_publish(postmortem=published.postmortem, by=approver)
    published = Incident.objects.get(pk=published.pk)

    clock.advance(hours=2)
    for incident in (reviewed, published):
        closed = incident_close(incident=incident, by=actor)
        assert (closed.status, closed.closed_at) == (S.CLOSED, clock.now)
        assert events(incident)[-1].kind == EventKind.CLOSED


def test_a_postmortem_returned_to_draft_blocks_closing_again(open_incident, actor):
    incident = drive(open_incident(), "resolved", human=actor)
    postmortem_return_to_draft(postmortem=incident.postmortem, by=actor, reason="Root cause is vague")
    incident = Incident.objects.get(pk=incident.pk)
    _refused_close(
        incident,
        actor,
        f"{incident.reference} is P2: its post-mortem is still a draft; submit it for review before closing.",
    )


@pytest.mark.parametrize("code", ["P3", "P4", "P5"])
def test_lower_priorities_close_without_a_postmortem(code, open_incident, actor, priorities):
    incident = drive(open_incident(priority=priorities[code]), "resolved", human=actor)
    assert not Postmortem.objects.exists()  # postmortem_ready left it alone.
    incident = incident_close(incident=incident, by=actor)
    assert incident.status == S.CLOSED
    assert not Postmortem.objects.exists()


def test_an_automatically_resolved_p1_still_needs_its_postmortem(open_incident, actor, priorities):
    incident = incident_auto_resolve(
        incident=open_incident(priority=priorities["P1"]), by=AUTOMATION, summary="Alert cleared"
    )
    _refused_close(
        incident,
        actor,
        f"{incident.reference} is P1: write its post-mortem and submit it for review before closing.",
    )
    incident = postmortem_ready(incident=incident, by=actor)
    assert incident_close(incident=incident, by=actor).status == S.CLOSED


class TestDismiss:
    def test_as_duplicate_links_the_original(self, open_incident, actor):
        original = open_incident(title="Checkout down")
        copy = open_incident(title="Checkout down (second alert)")
        copy = incident_dismiss(
            incident=copy,
            by=actor,
            reason="Same outage",
            dismissal_reason=DismissalReason.DUPLICATE,
            duplicate_of=original,
        )
        copy.refresh_from_db()
        assert (copy.status, copy.dismissal_reason, copy.duplicate_of) == (
            S.CLOSED,
            DismissalReason.DUPLICATE,
            original,
        )
        assert copy.closed_at is not None
        [event] = events(copy, EventKind.DISMISSED)
        assert event.details == {
            "from": S.NEW,
            "to": S.CLOSED,
            "reason": "Same outage",
            "dismissal_reason": DismissalReason.DUPLICATE,
            "duplicate_of": original.reference,
            "phase": {"from": "triage", "to": ""},
        }
        assert f"duplicate of {original.reference}" in event.message

    @pytest.mark.parametrize(
        ("dismissal_reason", "duplicate", "field"),
        [
            (DismissalReason.DUPLICATE, None, "duplicate_of"),
            (DismissalReason.DUPLICATE, "self", "duplicate_of"),
            (DismissalReason.FALSE_ALARM, "other", "duplicate_of"),
            ("bored", None, "dismissal_reason"),
        ],
    )
    def test_invalid_dismissal_changes_nothing(
        self, dismissal_reason, duplicate, field, open_incident, actor
    ):
        incident = open_incident()
        other = open_incident()
        duplicate_of = {None: None, "self": incident, "other": other}[duplicate]
        before = snapshot(incident)
        with pytest.raises(ValidationError) as exc:
            incident_dismiss(
                incident=incident,
                by=actor,
                reason="Noise",
                dismissal_reason=dismissal_reason,
                duplicate_of=duplicate_of,
            )
        assert list(exc.value.message_dict) == [field]
        assert snapshot(incident) == before
