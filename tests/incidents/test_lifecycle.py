"""The incident lifecycle: every transition service from every status, and their side effects."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from common.actor import Actor, Source
from common.exceptions import ConflictError, PermissionDeniedError, TransitionNotAllowedError
from incidents.choices import DismissalReason, EventKind, IncidentStatus, Phase
from incidents.models import Incident
from incidents.services import (
    TRANSITION_SERVICES,
    incident_acknowledge,
    incident_auto_resolve,
    incident_dismiss,
    incident_hold,
    incident_reopen,
    incident_resolve,
)
from tests.incidents.support import AUTOMATION, PATHS, drive, events, postmortem_ready, snapshot

S = IncidentStatus
SERVICES = {**TRANSITION_SERVICES, "auto_resolve": incident_auto_resolve}
ARGS = {
    "acknowledge": {},
    "hold": {"reason": "Waiting on the vendor"},
    "resume": {},
    "resolve": {"summary": "Rolled back release 2026.3"},
    "reopen": {"reason": "Errors are back"},
    "close": {"note": "Post-mortem scheduled"},
    "dismiss": {"reason": "Flapping alert"},
    "auto_resolve": {"summary": "Alert cleared after restart"},
}
# (transition, status before) -> (status after, event kind, details beyond from/to). Absent: refused.
LEGAL = {
    ("acknowledge", S.NEW): (S.IN_PROGRESS, EventKind.ACKNOWLEDGED, {}),
    ("hold", S.IN_PROGRESS): (S.ON_HOLD, EventKind.HELD, {"reason": "Waiting on the vendor"}),
    ("resume", S.ON_HOLD): (S.IN_PROGRESS, EventKind.RESUMED, {}),
    ("resolve", S.IN_PROGRESS): (S.RESOLVED, EventKind.RESOLVED, {"summary": "Rolled back release 2026.3"}),
    ("resolve", S.ON_HOLD): (S.RESOLVED, EventKind.RESOLVED, {"summary": "Rolled back release 2026.3"}),
    ("reopen", S.RESOLVED): (S.IN_PROGRESS, EventKind.REOPENED, {"reason": "Errors are back"}),
    ("close", S.RESOLVED): (S.CLOSED, EventKind.CLOSED, {"note": "Post-mortem scheduled"}),
    ("dismiss", S.NEW): (
        S.CLOSED,
        EventKind.DISMISSED,
        {"reason": "Flapping alert", "dismissal_reason": DismissalReason.FALSE_ALARM},
    ),
    ("auto_resolve", S.NEW): (
        S.RESOLVED,
        EventKind.AUTO_RESOLVED,
        {"summary": "Alert cleared after restart", "automated": True},
    ),
    ("auto_resolve", S.IN_PROGRESS): (
        S.RESOLVED,
        EventKind.AUTO_RESOLVED,
        {"summary": "Alert cleared after restart", "automated": True},
    ),
}
# What a legal transition writes besides status, updated_at and its timeline event; next_update_due_at
# is checked on its own (set while worked, cleared otherwise).
WRITES = {
    "acknowledge": {"acknowledged_at", "assignee_id", "phase"},
    "hold": set(),
    "resume": set(),
    # Resolving clears the work phase and sets the peak priority; reopening restarts the phase.
    # Both are checked by value below: whether they change depends on the path taken.
    "resolve": {"resolved_at", "resolution_summary"},
    "reopen": {"resolved_at", "reopen_count"},
    "close": {"closed_at"},
    # Dismissing leaves triage: a closed incident claims no phase.
    "dismiss": {"closed_at", "dismissal_reason", "phase"},
    "auto_resolve": {"resolved_at", "resolution_summary"},
}
CASES = [(name, path) for name in SERVICES for path in PATHS]
PHASE_MOVES = ("resolve", "auto_resolve", "reopen")


def test_the_table_covers_every_status_and_transition():
    assert {status for status, _ in PATHS.values()} == set(S)
    assert {name for name, _ in LEGAL} == set(SERVICES) == set(WRITES)


@pytest.mark.parametrize(("name", "path"), CASES, ids=[f"{n}-from-{p}" for n, p in CASES])
def test_transition_table(name, path, open_incident, actor, responder, clock):
    incident = drive(open_incident(), path, human=actor)
    status = PATHS[path][0]
    by = AUTOMATION if name == "auto_resolve" else actor
    clock.advance(minutes=7)
    before = snapshot(incident)

    if (name, status) not in LEGAL:
        with pytest.raises(TransitionNotAllowedError) as exc:
            SERVICES[name](incident=incident, by=by, **ARGS[name])
        assert exc.value.extra == {"status": status, "transition": name}
        assert snapshot(incident) == before
        return

    target, kind, extra = LEGAL[(name, status)]
    result = SERVICES[name](incident=incident, by=by, **ARGS[name])

    assert result.status == target
    assert Incident.objects.get(pk=incident.pk).status == target
    after = snapshot(incident)
    assert after["timeline"] == before["timeline"] + 1
    [event] = events(incident)[-1:]
    assert event.kind == kind
    assert event.occurred_at == clock.now
    phase = {"from": before["phase"], "to": Phase.INVESTIGATING if name == "reopen" else ""}
    if name in PHASE_MOVES:
        extra = {**extra, "phase": phase}
    # Both leave triage (they are legal from new only): the event says from which triage phase.
    if name == "acknowledge":
        extra = {**extra, "phase": {"from": Phase.TRIAGE, "to": Phase.INVESTIGATING}}
    if name == "dismiss":
        extra = {**extra, "phase": {"from": Phase.TRIAGE, "to": ""}}
    assert event.details == {"from": status, "to": target, **extra}
    if by is AUTOMATION:
        assert (event.actor, event.actor_name, event.source) == (None, "auto-remediation", Source.TASK)
    else:
        assert (event.actor, event.actor_name, event.source) == (responder, "responder", Source.API)
    assert after["updated_at"] == clock.now
    changed = {field for field in after if after[field] != before[field]}
    path_dependent = {"phase", "peak_priority"} if name in PHASE_MOVES else set()
    assert changed - {"next_update_due_at", *path_dependent} == {
        "status",
        "updated_at",
        "timeline",
        *WRITES[name],
    }
    if name in PHASE_MOVES:
        # A resolved incident claims no work phase; the peak priority holds from then on.
        assert (after["phase"], after["peak_priority"]) == (phase["to"], "P2")
    if target in (S.IN_PROGRESS, S.ON_HOLD):
        assert after["next_update_due_at"] is not None
    else:
        assert after["next_update_due_at"] is None


def test_acknowledge_sets_acknowledged_at_once_and_takes_the_incident(open_incident, actor, responder, clock):
    incident = open_incident()
    assert (incident.acknowledged_at, incident.assignee, incident.phase) == (None, None, Phase.TRIAGE)

    incident = incident_acknowledge(incident=incident, by=actor)
    acknowledged_at = clock.now
    assert incident.acknowledged_at == acknowledged_at
    assert incident.assignee == responder
    assert incident.phase == Phase.INVESTIGATING

    clock.advance(hours=1)
    incident = incident_resolve(incident=incident, by=actor, summary="Fixed")
    clock.advance(hours=1)
    incident = incident_reopen(incident=incident, by=actor, reason="Back again")
    assert incident.status == S.IN_PROGRESS
    clock.advance(hours=1)
    with pytest.raises(TransitionNotAllowedError):
        incident_acknowledge(incident=incident, by=actor)
    assert Incident.objects.get(pk=incident.pk).acknowledged_at == acknowledged_at
    assert len(events(incident, EventKind.ACKNOWLEDGED)) == 1


def test_acknowledge_keeps_an_existing_assignee(open_incident, actor, user_factory):
    owner = user_factory(groups=["Responder"])
    incident = incident_acknowledge(incident=open_incident(assignee=owner), by=actor)
    assert incident.assignee == owner


def test_acknowledge_by_the_system_assigns_nobody(open_incident):
    incident = incident_acknowledge(incident=open_incident(), by=AUTOMATION)
    assert incident.assignee is None
    assert incident.acknowledged_at is not None


def test_resolve_sets_resolved_at_and_summary(open_incident, actor, clock):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    assert incident.next_update_due_at is not None
    clock.advance(minutes=40)
    incident = incident_resolve(incident=incident, by=actor, summary="  Restarted the pool  ")
    incident.refresh_from_db()
    assert incident.resolved_at == clock.now
    assert incident.resolution_summary == "Restarted the pool"
    assert incident.next_update_due_at is None


def test_reopen_counts_and_clears_resolved_at(open_incident, actor):
    incident = drive(open_incident(), "resolved", human=actor)
    incident = incident_reopen(incident=incident, by=actor, reason="Errors are back")
    assert (incident.reopen_count, incident.resolved_at) == (1, None)
    assert incident.next_update_due_at is not None
    incident = incident_resolve(incident=incident, by=actor, summary="Really fixed")
    incident = incident_reopen(incident=incident, by=actor, reason="Not really")
    incident.refresh_from_db()
    assert incident.reopen_count == 2


REQUIRED_TEXT = [
    ("hold", "in_progress", "reason"),
    ("resolve", "in_progress", "summary"),
    ("reopen", "resolved", "reason"),
    ("dismiss", "new", "reason"),
    ("auto_resolve", "new", "summary"),
]


@pytest.mark.parametrize("blank", ["", "   \n"])
@pytest.mark.parametrize(("name", "path", "field"), REQUIRED_TEXT)
def test_missing_text_is_a_field_error_and_changes_nothing(name, path, field, blank, open_incident, actor):
    incident = drive(open_incident(), path, human=actor)
    before = snapshot(incident)
    by = AUTOMATION if name == "auto_resolve" else actor
    with pytest.raises(ValidationError) as exc:
        SERVICES[name](incident=incident, by=by, **{**ARGS[name], field: blank})
    assert list(exc.value.message_dict) == [field]
    assert snapshot(incident) == before


def test_hold_and_reopen_record_their_reason(open_incident, actor):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    incident = incident_hold(incident=incident, by=actor, reason="  Vendor ticket 4411 ")
    [held] = events(incident, EventKind.HELD)
    assert held.details["reason"] == "Vendor ticket 4411"
    assert held.message == "Put on hold: Vendor ticket 4411"


@pytest.mark.parametrize("who", ["responder", "superuser", "admin group"])
def test_auto_resolve_refuses_people(who, open_incident, responder, user_factory):
    user = {
        "responder": responder,
        "superuser": user_factory(is_superuser=True),
        "admin group": user_factory(groups=["Admin"]),
    }[who]
    incident = open_incident()
    before = snapshot(incident)
    with pytest.raises(PermissionDeniedError):
        incident_auto_resolve(incident=incident, by=Actor(user=user, source=Source.ADMIN), summary="Gone")
    assert snapshot(incident) == before


def test_a_stale_instance_gets_a_conflict_not_a_silent_overwrite(open_incident, actor):
    mine = open_incident()
    theirs = Incident.objects.get(pk=mine.pk)
    incident_acknowledge(incident=theirs, by=actor)
    before = snapshot(mine)

    with pytest.raises(ConflictError) as exc:
        incident_dismiss(incident=mine, by=actor, reason="Noise")
    assert exc.value.extra == {"status": S.IN_PROGRESS}
    assert "Reload" in exc.value.message
    assert snapshot(mine) == before


def test_the_timeline_tells_the_whole_story(open_incident, actor, clock):
    incident = open_incident(detected_at=clock.now - timedelta(minutes=3))
    for path_step in ("acknowledge", "hold", "resume", "resolve", "reopen", "resolve", "postmortem", "close"):
        clock.advance(minutes=5)
        if path_step == "postmortem":  # A P2: its post-mortem goes to review before it closes.
            incident = postmortem_ready(incident=incident, by=actor)
            continue
        incident = SERVICES[path_step](incident=incident, by=actor, **ARGS[path_step])
    assert [e.kind for e in events(incident)] == [
        EventKind.CREATED,
        EventKind.ACKNOWLEDGED,
        EventKind.HELD,
        EventKind.RESUMED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.RESOLVED,
        EventKind.POSTMORTEM,  # drafted
        EventKind.POSTMORTEM,  # submitted for review
        EventKind.CLOSED,
    ]
    times = [e.occurred_at for e in events(incident)]
    assert times == sorted(times)
    assert incident.reopen_count == 1
