"""Who may do what, enforced by the services whatever the interface (common.groups)."""

import pytest

from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError
from incidents.choices import Role
from incidents.models import Incident
from incidents.services import (
    TRANSITION_SERVICES,
    incident_acknowledge,
    incident_auto_resolve,
    incident_create,
    incident_dismiss,
    incident_hold,
    incident_note_add,
    incident_resolve,
    incident_role_assign,
    incident_update,
    status_update_create,
)
from tests.factories import UserFactory
from tests.incidents.support import snapshot

SYSTEM = Actor.system(source=Source.SYSTEM, label="alertmanager")


def op_create(incident, by, priorities, other):
    return incident_create(by=by, title="Another outage", priority=priorities["P3"])


def op_update(incident, by, priorities, other):
    return incident_update(incident=incident, by=by, changes={"title": "Checkout is down"})


def op_acknowledge(incident, by, priorities, other):
    return incident_acknowledge(incident=incident, by=by)


def op_dismiss(incident, by, priorities, other):
    return incident_dismiss(incident=incident, by=by, reason="Noise")


def op_status_update(incident, by, priorities, other):
    return status_update_create(incident=incident, by=by, message="Looking into it")


def op_assign_role(incident, by, priorities, other):
    return incident_role_assign(incident=incident, by=by, role=Role.TECHNICAL_LEAD, user=other)


def op_assign_commander(incident, by, priorities, other):
    return incident_role_assign(incident=incident, by=by, role=Role.COMMANDER, user=other)


def op_note(incident, by, priorities, other):
    return incident_note_add(incident=incident, by=by, message="Deploy 2026.3 went out at 09:02")


OPERATIONS = {
    "create": op_create,
    "update": op_update,
    "acknowledge": op_acknowledge,
    "dismiss": op_dismiss,
    "status_update": op_status_update,
    "assign_role": op_assign_role,
    "assign_commander": op_assign_commander,
    "note": op_note,
}
# Who may do every operation above; everyone else may do none of them.
WHO = {
    "no group": False,
    "Viewer": False,
    "inactive Responder": False,
    "Responder": True,
    "Approver": True,
    "Admin": True,
    "superuser": True,
}


def make_user(who: str):
    if who == "no group":
        return UserFactory()
    if who == "superuser":
        return UserFactory(is_superuser=True)
    if who == "inactive Responder":
        return UserFactory(groups=["Responder"], is_active=False)
    return UserFactory(groups=[who])


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("who", list(WHO))
def test_permission_matrix(who, operation, priorities):
    incident = incident_create(by=SYSTEM, title="Checkout returns 502", priority=priorities["P2"])
    other = UserFactory(groups=["Responder"])
    by = Actor(user=make_user(who), source=Source.ADMIN)
    before, incidents_before = snapshot(incident), Incident.objects.count()

    if WHO[who]:
        OPERATIONS[operation](incident, by, priorities, other)
        if operation == "create":
            assert Incident.objects.count() == incidents_before + 1
        else:
            assert snapshot(incident)["timeline"] == before["timeline"] + 1
    else:
        with pytest.raises(PermissionDeniedError):
            OPERATIONS[operation](incident, by, priorities, other)
        assert snapshot(incident) == before
        assert Incident.objects.count() == incidents_before


@pytest.mark.parametrize("who", list(WHO))
def test_transitions_of_a_worked_incident(who, priorities):
    incident = incident_acknowledge(
        incident=incident_create(by=SYSTEM, title="Checkout returns 502", priority=priorities["P2"]),
        by=SYSTEM,
    )
    by = Actor(user=make_user(who), source=Source.API)
    before = snapshot(incident)
    if WHO[who]:
        incident = incident_hold(incident=incident, by=by, reason="Vendor")
        incident_resolve(incident=incident, by=by, summary="Vendor fixed it")
    else:
        with pytest.raises(PermissionDeniedError):
            incident_hold(incident=incident, by=by, reason="Vendor")
        with pytest.raises(PermissionDeniedError):
            incident_resolve(incident=incident, by=by, summary="Vendor fixed it")
        assert snapshot(incident) == before


def test_a_viewer_is_refused_before_any_write(viewer, priorities):
    """Refusals come from the permission, not from a later check that happens to fail."""
    incident = incident_create(by=SYSTEM, title="Checkout returns 502", priority=priorities["P2"])
    with pytest.raises(PermissionDeniedError) as exc:
        incident_acknowledge(incident=incident, by=Actor(user=viewer, source=Source.API))
    assert exc.value.http_status == 403
    assert "acknowledge" in exc.value.message


def test_the_system_can_do_everything(priorities):
    other = UserFactory(groups=["Responder"])
    incident = incident_create(by=SYSTEM, title="Disk full", priority=priorities["P3"])
    for operation in ("update", "status_update", "assign_role", "assign_commander", "note"):
        OPERATIONS[operation](incident, SYSTEM, priorities, other)
    incident = Incident.objects.get(pk=incident.pk)
    for step, kwargs in [
        (incident_acknowledge, {}),
        (incident_hold, {"reason": "Waiting for the disk"}),
        (TRANSITION_SERVICES["resume"], {}),
        (incident_resolve, {"summary": "Disk replaced"}),
        (TRANSITION_SERVICES["reopen"], {"reason": "Full again"}),
        (incident_auto_resolve, {"summary": "Alert cleared"}),
        (TRANSITION_SERVICES["close"], {}),
    ]:
        incident = step(incident=incident, by=SYSTEM, **kwargs)
    assert incident.closed_at is not None
    dismissed = incident_dismiss(
        incident=incident_create(by=SYSTEM, title="Flap", priority=priorities["P4"]), by=SYSTEM, reason="Flap"
    )
    assert dismissed.closed_at is not None
