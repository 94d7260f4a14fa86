"""Status updates: progress messages that move the phase on and restart the update clock."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from common.exceptions import TransitionNotAllowedError
from incidents.choices import EventKind, Phase, Visibility
from incidents.models import Incident, StatusUpdate
from incidents.services import incident_acknowledge, status_update_create
from tests.incidents.support import drive, events, snapshot


@pytest.fixture
def worked(open_incident, actor):
    return incident_acknowledge(incident=open_incident(), by=actor)


def test_an_update_is_stored_and_recorded(worked, actor, responder, clock):
    update = status_update_create(incident=worked, by=actor, message="  Rolling back the deploy. ")

    update.refresh_from_db()
    assert (update.message, update.visibility, update.phase, update.author) == (
        "Rolling back the deploy.",
        Visibility.INTERNAL,
        Phase.INVESTIGATING,
        responder,
    )
    [event] = events(worked, EventKind.STATUS_UPDATE)
    assert event.message == "Rolling back the deploy."
    assert event.details == {
        "status_update": update.pk,
        "visibility": Visibility.INTERNAL,
        "phase": Phase.INVESTIGATING,
    }
    assert (event.actor, event.source, event.occurred_at) == (responder, "api", clock.now)


def test_a_phase_moves_the_incident_on(worked, actor):
    status_update_create(incident=worked, by=actor, message="Bad index found", phase=Phase.IDENTIFIED)
    assert Incident.objects.get(pk=worked.pk).phase == Phase.IDENTIFIED
    update = status_update_create(incident=worked, by=actor, message="Rebuilding it")
    assert update.phase == Phase.IDENTIFIED, "an update without a phase keeps the current one"
    status_update_create(incident=worked, by=actor, message="Watching", phase=Phase.MONITORING)
    assert Incident.objects.get(pk=worked.pk).phase == Phase.MONITORING
    assert [e.details["phase"] for e in events(worked, EventKind.STATUS_UPDATE)] == [
        Phase.IDENTIFIED,
        Phase.IDENTIFIED,
        Phase.MONITORING,
    ]


@pytest.mark.parametrize("visibility", list(Visibility))
def test_visibility(visibility, worked, actor):
    update = status_update_create(
        incident=worked, by=actor, message="Degraded checkout", visibility=visibility
    )
    assert StatusUpdate.objects.get(pk=update.pk).visibility == visibility
    assert events(worked, EventKind.STATUS_UPDATE)[0].details["visibility"] == visibility


def test_an_update_restarts_the_update_clock(worked, actor, clock):
    clock.advance(minutes=50)
    status_update_create(incident=worked, by=actor, message="Still on it")
    assert Incident.objects.get(pk=worked.pk).next_update_due_at == clock.now + timedelta(hours=2)


def test_a_new_incident_takes_updates_but_no_work_phase(open_incident, actor):
    incident = open_incident()
    update = status_update_create(incident=incident, by=actor, message="We are aware", visibility="public")
    assert update.phase == Phase.TRIAGE, "a new incident is in triage"
    before = snapshot(incident)
    with pytest.raises(ValidationError) as exc:
        status_update_create(incident=incident, by=actor, message="Found it", phase=Phase.IDENTIFIED)
    assert list(exc.value.message_dict) == ["phase"]
    assert snapshot(incident) == before


def test_a_resolved_incident_takes_a_closing_public_update(open_incident, actor):
    incident = drive(open_incident(), "resolved", human=actor)
    update = status_update_create(incident=incident, by=actor, message="All clear", visibility="public")
    assert update.phase == ""
    assert Incident.objects.get(pk=incident.pk).next_update_due_at is None


@pytest.mark.parametrize("path", ["closed", "closed_dismissed"])
def test_a_closed_incident_refuses_updates(path, open_incident, actor):
    incident = drive(open_incident(), path, human=actor)
    before = snapshot(incident)
    with pytest.raises(TransitionNotAllowedError):
        status_update_create(incident=incident, by=actor, message="Late news")
    assert snapshot(incident) == before


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"message": "   "}, ["message"]),
        ({"message": "Hi", "visibility": "everyone"}, ["visibility"]),
        ({"message": "Hi", "phase": "panicking"}, ["phase"]),
        ({"message": "", "visibility": "everyone", "phase": "panicking"}, ["message", "visibility", "phase"]),
    ],
)
def test_invalid_input_changes_nothing(kwargs, fields, worked, actor):
    before = snapshot(worked)
    with pytest.raises(ValidationError) as exc:
        status_update_create(incident=worked, by=actor, **kwargs)
    assert sorted(exc.value.message_dict) == sorted(fields)
    assert snapshot(worked) == before


def test_moving_the_phase_with_an_update_writes_a_phase_changed_event(worked, actor):
    status_update_create(incident=worked, by=actor, message="Bad index found", phase=Phase.IDENTIFIED)
    status_update_create(incident=worked, by=actor, message="Same phase", phase=Phase.IDENTIFIED)

    [changed] = events(worked, EventKind.PHASE_CHANGED)
    assert changed.details == {"field": "phase", "from": Phase.INVESTIGATING, "to": Phase.IDENTIFIED}
