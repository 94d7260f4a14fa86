"""Editing an incident's details: what changed goes on the timeline, bad input changes nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from incidents.choices import EventKind, Phase, RootCauseCategory
from incidents.models import Incident
from incidents.services import EDITABLE_FIELDS, incident_acknowledge, incident_create, incident_update
from tests.incidents.support import drive, events, snapshot


def last(incident):
    return events(incident)[-1]


def test_priority_change(open_incident, actor, priorities, responder):
    incident = open_incident(priority=priorities["P3"])
    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P1"]})
    assert Incident.objects.get(pk=incident.pk).priority.code == "P1"
    event = last(incident)
    assert (event.kind, event.details, event.actor) == (
        EventKind.PRIORITY_CHANGED,
        {"field": "priority", "from": "P3", "to": "P1"},
        responder,
    )
    assert event.message == "Priority changed from P3 to P1."


def test_assignee_change(open_incident, actor, user_factory):
    alice = user_factory(username="alice", groups=["Responder"])
    incident = incident_update(incident=open_incident(), by=actor, changes={"assignee": alice})
    assert (last(incident).kind, last(incident).details) == (
        EventKind.ASSIGNEE_CHANGED,
        {"field": "assignee", "from": None, "to": "alice"},
    )
    assert last(incident).message == "Assignee changed from none to alice."
    incident = incident_update(incident=incident, by=actor, changes={"assignee": None})
    assert last(incident).details == {"field": "assignee", "from": "alice", "to": None}
    assert Incident.objects.get(pk=incident.pk).assignee is None


@pytest.mark.parametrize("path", ["in_progress", "on_hold", "in_progress_reopened"])
def test_phase_change_while_worked(path, open_incident, actor):
    incident = drive(open_incident(), path, human=actor)
    incident = incident_update(incident=incident, by=actor, changes={"phase": Phase.FIXING})
    assert Incident.objects.get(pk=incident.pk).phase == Phase.FIXING
    assert (last(incident).kind, last(incident).details) == (
        EventKind.PHASE_CHANGED,
        {"field": "phase", "from": Phase.INVESTIGATING, "to": Phase.FIXING},
    )


@pytest.mark.parametrize("path", ["new", "resolved", "closed", "closed_dismissed"])
def test_phase_refused_when_not_worked(path, open_incident, actor):
    incident = drive(open_incident(), path, human=actor)
    before = snapshot(incident)
    with pytest.raises(ValidationError) as exc:
        incident_update(incident=incident, by=actor, changes={"phase": Phase.FIXING, "title": "Renamed"})
    assert list(exc.value.message_dict) == ["phase"]
    assert snapshot(incident) == before


def test_other_fields_share_one_updated_event(open_incident, actor, service_factory):
    web, db = service_factory(slug="web"), service_factory(slug="db")
    incident = open_incident(services=[web])
    incident = incident_update(
        incident=incident,
        by=actor,
        changes={
            "title": "Checkout down for EU",
            "services": [web, db],
            "root_cause_category": RootCauseCategory.DEPLOYMENT,
            "services_down": 2,
            "data_at_risk": True,
        },
    )
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.title == "Checkout down for EU"
    assert set(incident.services.values_list("slug", flat=True)) == {"web", "db"}
    [updated] = events(incident, EventKind.UPDATED)
    assert updated.details["fields"] == [
        "data_at_risk",
        "root_cause_category",
        "services",
        "services_down",
        "title",
    ]
    assert updated.details["changes"]["services"] == {"from": ["web"], "to": ["web", "db"]}
    assert updated.details["changes"]["title"] == {
        "from": "Checkout returns 502",
        "to": "Checkout down for EU",
    }
    assert updated.message == "Updated data_at_risk, root_cause_category, services, services_down, title."


def test_mixed_changes_get_their_own_events(open_incident, actor, priorities):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    incident_update(
        incident=incident,
        by=actor,
        changes={"priority": priorities["P1"], "phase": Phase.IDENTIFIED, "title": "Checkout down"},
    )
    assert [e.kind for e in events(incident)][-3:] == [
        EventKind.PRIORITY_CHANGED,
        EventKind.PHASE_CHANGED,
        EventKind.UPDATED,
    ]


def test_no_change_records_nothing(open_incident, actor, service_factory):
    web = service_factory(slug="web")
    incident = open_incident(services=[web])
    before = snapshot(incident)
    incident_update(
        incident=incident,
        by=actor,
        changes={
            "title": incident.title,
            "services": [web],
            "priority": incident.priority,
            "commander": None,
        },
    )
    after = snapshot(incident)
    assert after["timeline"] == before["timeline"]


@pytest.mark.parametrize("field", ["status", "reference", "acknowledged_at", "reopen_count", "colour"])
def test_unknown_or_protected_fields_are_refused(field, open_incident, actor):
    incident = open_incident()
    before = snapshot(incident)
    with pytest.raises(ValidationError) as exc:
        incident_update(incident=incident, by=actor, changes={field: "x", "title": "Renamed"})
    assert list(exc.value.message_dict) == [field]
    assert snapshot(incident) == before
    assert field not in EDITABLE_FIELDS


def test_started_after_detected_is_a_field_error(open_incident, actor, clock):
    incident = open_incident(detected_at=clock.now - timedelta(minutes=30))
    before = snapshot(incident)
    with pytest.raises(ValidationError) as exc:
        incident_update(
            incident=incident,
            by=actor,
            changes={"started_at": incident.detected_at + timedelta(minutes=1), "title": "Renamed"},
        )
    assert exc.value.message_dict == {"started_at": ["The impact cannot start after it was detected."]}
    assert snapshot(incident) == before


def test_started_before_detected_is_recorded(open_incident, actor, clock):
    incident = open_incident(detected_at=clock.now - timedelta(minutes=30))
    started = incident.detected_at - timedelta(hours=2)
    incident = incident_update(incident=incident, by=actor, changes={"started_at": started})
    assert Incident.objects.get(pk=incident.pk).started_at == started
    assert last(incident).details["changes"]["started_at"]["to"] == started.isoformat()


def test_started_after_detected_is_refused_at_creation_too(actor, priorities, clock):
    with pytest.raises(ValidationError) as exc:
        incident_create(
            by=actor,
            title="Checkout down",
            priority=priorities["P2"],
            detected_at=clock.now - timedelta(hours=1),
            started_at=clock.now,
        )
    assert list(exc.value.message_dict) == ["started_at"]
    assert not Incident.objects.exists()


def test_field_errors_are_reported_together(open_incident, actor, clock):
    incident = open_incident(detected_at=clock.now - timedelta(minutes=30))
    with pytest.raises(ValidationError) as exc:
        incident_update(
            incident=incident,
            by=actor,
            changes={"started_at": clock.now, "title": "", "users_affected": "everybody"},
        )
    assert sorted(exc.value.message_dict) == ["started_at", "title", "users_affected"]


def test_the_callers_instance_is_left_alone_on_error(open_incident, actor):
    incident = open_incident()
    with pytest.raises(ValidationError):
        incident_update(incident=incident, by=actor, changes={"title": ""})
    assert incident.title == "Checkout returns 502"
