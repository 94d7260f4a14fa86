"""Response roles: assigned, replaced and released, each change on the timeline."""

import pytest
from django.core.exceptions import ValidationError

from incidents.choices import EventKind, Role
from incidents.models import Incident, RoleAssignment
from incidents.services import incident_role_assign, incident_update
from tests.incidents.support import events, snapshot

NON_COMMANDER = [r for r in Role if r != Role.COMMANDER]


@pytest.fixture
def alice(user_factory):
    return user_factory(username="alice", groups=["Responder"])


@pytest.fixture
def bob(user_factory):
    return user_factory(username="bob", groups=["Responder"])


def role_events(incident):
    return [
        (e.kind, e.details)
        for e in events(incident)
        if e.kind in (EventKind.ROLE_ASSIGNED, EventKind.ROLE_UNASSIGNED)
    ]


@pytest.mark.parametrize("role", NON_COMMANDER)
def test_assign_replace_unassign(role, open_incident, actor, alice, bob):
    incident = open_incident()

    incident_role_assign(incident=incident, by=actor, role=role, user=alice)
    assert list(incident.role_assignments.values_list("role", "user__username")) == [(role, "alice")]
    incident_role_assign(incident=incident, by=actor, role=role, user=bob)
    assert list(incident.role_assignments.values_list("role", "user__username")) == [(role, "bob")]
    incident_role_assign(incident=incident, by=actor, role=role, user=None)
    assert not incident.role_assignments.exists()

    assert role_events(incident) == [
        (EventKind.ROLE_ASSIGNED, {"role": role, "from": None, "to": "alice"}),
        (EventKind.ROLE_ASSIGNED, {"role": role, "from": "alice", "to": "bob"}),
        (EventKind.ROLE_UNASSIGNED, {"role": role, "from": "bob", "to": None}),
    ]
    assert events(incident)[-1].message == f"{Role(role).label}: bob stepped down."


def test_the_commander_lives_on_the_incident(open_incident, actor, alice, bob):
    incident = open_incident()
    incident = incident_role_assign(incident=incident, by=actor, role=Role.COMMANDER, user=alice)
    assert Incident.objects.get(pk=incident.pk).commander == alice
    assert not RoleAssignment.objects.exists()
    incident_role_assign(incident=incident, by=actor, role=Role.COMMANDER, user=bob)
    incident_role_assign(incident=incident, by=actor, role=Role.COMMANDER, user=None)
    assert Incident.objects.get(pk=incident.pk).commander is None
    assert role_events(incident) == [
        (EventKind.ROLE_ASSIGNED, {"role": "commander", "from": None, "to": "alice"}),
        (EventKind.ROLE_ASSIGNED, {"role": "commander", "from": "alice", "to": "bob"}),
        (EventKind.ROLE_UNASSIGNED, {"role": "commander", "from": "bob", "to": None}),
    ]


def test_the_commander_can_be_set_through_an_update(open_incident, actor, alice):
    incident = incident_update(incident=open_incident(), by=actor, changes={"commander": alice})
    assert Incident.objects.get(pk=incident.pk).commander == alice
    assert role_events(incident) == [
        (EventKind.ROLE_ASSIGNED, {"role": "commander", "from": None, "to": "alice"}),
    ]
    assert [e.kind for e in events(incident)] == [EventKind.CREATED, EventKind.ROLE_ASSIGNED]


def test_a_commander_named_at_creation_is_recorded(open_incident, alice):
    incident = open_incident(commander=alice)
    assert incident.commander == alice
    assert events(incident)[0].details["commander"] == "alice"


def test_one_user_may_hold_several_roles(open_incident, actor, alice):
    incident = open_incident()
    for role in Role:
        incident_role_assign(incident=incident, by=actor, role=role, user=alice)
    assert incident.role_assignments.count() == len(NON_COMMANDER)
    assert len(role_events(incident)) == len(Role)


@pytest.mark.parametrize("role", list(Role))
def test_no_change_records_nothing(role, open_incident, actor, alice):
    incident = open_incident()
    incident_role_assign(incident=incident, by=actor, role=role, user=None)
    incident_role_assign(incident=incident, by=actor, role=role, user=alice)
    before = snapshot(incident)
    incident_role_assign(incident=incident, by=actor, role=role, user=alice)
    assert snapshot(incident) == before
    assert len(role_events(incident)) == 1


def test_an_unknown_role_is_refused(open_incident, actor, alice):
    incident = open_incident()
    before = snapshot(incident)
    with pytest.raises(ValidationError) as exc:
        incident_role_assign(incident=incident, by=actor, role="hero", user=alice)
    assert list(exc.value.message_dict) == ["role"]
    assert snapshot(incident) == before
