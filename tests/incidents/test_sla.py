"""The SLA sweeper: each breach and each missed status update recorded once, from stored due times.

P2 targets (migration 0002): respond 30 min, resolve 8 h, update every 2 h.
"""

from datetime import timedelta

import pytest

from incidents import tasks
from incidents.choices import EventKind, SlaTarget
from incidents.models import Incident, Priority
from incidents.services import (
    incident_acknowledge,
    incident_dismiss,
    incident_hold,
    incident_sla_sweep,
    incident_update,
    status_update_create,
)
from tests.incidents.support import drive, events

MINUTE = timedelta(minutes=1)


@pytest.fixture
def p2(open_incident, clock, priorities):
    """A P2 incident detected at the clock's start."""
    return open_incident(priority=priorities["P2"], detected_at=clock.now)


def sla_events(incident):
    return [e for e in events(incident) if e.kind in (EventKind.SLA_BREACHED, EventKind.UPDATE_OVERDUE)]


def test_due_times_come_from_the_priority(p2, clock):
    assert p2.response_due_at == clock.now + timedelta(minutes=30)
    assert p2.resolution_due_at == clock.now + timedelta(hours=8)
    assert p2.next_update_due_at is None


def test_response_breach_of_an_unacknowledged_incident(p2, clock):
    due = clock.now + timedelta(minutes=30)
    assert incident_sla_sweep(now=due - MINUTE) == 0
    assert sla_events(p2) == []

    assert incident_sla_sweep(now=due) == 1

    p2.refresh_from_db()
    assert p2.response_breached_at == due
    [event] = sla_events(p2)
    assert (event.kind, event.occurred_at, event.actor, event.actor_name, event.source) == (
        EventKind.SLA_BREACHED,
        due,
        None,
        "sla-sweeper",
        "task",
    )
    assert event.details == {"target": SlaTarget.RESPONSE, "due_at": due.isoformat(), "priority": "P2"}
    assert event.message.startswith("Response target of P2 missed")


def test_sweeping_twice_records_nothing_new(p2, clock):
    later = clock.now + timedelta(hours=9)
    assert incident_sla_sweep(now=later) == 2
    assert incident_sla_sweep(now=later) == 0
    assert incident_sla_sweep(now=later + timedelta(days=3)) == 0
    assert len(sla_events(p2)) == 2


def test_resolution_breach_of_a_worked_incident(p2, actor, clock):
    clock.advance(minutes=10)
    incident = incident_acknowledge(incident=p2, by=actor)
    due = p2.detected_at + timedelta(hours=8)
    # Keep the update clock happy so only the resolution target is at stake.
    for _ in range(3):
        clock.advance(hours=1, minutes=59)
        status_update_create(incident=incident, by=actor, message="Still digging")

    assert incident_sla_sweep(now=due) == 1

    [event] = sla_events(incident)
    assert event.details["target"] == SlaTarget.RESOLUTION
    assert event.details["due_at"] == due.isoformat()
    incident.refresh_from_db()
    assert incident.resolution_breached_at == due
    assert incident.response_breached_at is None


def test_an_overdue_status_update_is_recorded_once_per_missed_update(p2, actor, clock):
    clock.advance(minutes=5)
    incident = incident_acknowledge(incident=p2, by=actor)
    first_due = clock.now + timedelta(hours=2)
    assert incident.next_update_due_at == first_due

    assert incident_sla_sweep(now=first_due - MINUTE) == 0
    assert incident_sla_sweep(now=first_due + MINUTE) == 1
    assert incident_sla_sweep(now=first_due + 2 * MINUTE) == 0
    [overdue] = sla_events(incident)
    assert overdue.kind == EventKind.UPDATE_OVERDUE
    assert overdue.details == {"due_at": first_due.isoformat(), "priority": "P2"}

    # A status update restarts the clock; missing the next one is a new miss.
    clock.now = first_due + timedelta(minutes=10)
    status_update_create(incident=incident, by=actor, message="Found it")
    second_due = clock.now + timedelta(hours=2)
    incident.refresh_from_db()
    assert incident.next_update_due_at == second_due
    assert incident_sla_sweep(now=second_due - MINUTE) == 0
    assert incident_sla_sweep(now=second_due) == 1
    assert [e.details["due_at"] for e in events(incident, EventKind.UPDATE_OVERDUE)] == [
        first_due.isoformat(),
        second_due.isoformat(),
    ]


def test_an_incident_on_hold_still_owes_updates(p2, actor, clock):
    incident = incident_acknowledge(incident=p2, by=actor)
    incident = incident_hold(incident=incident, by=actor, reason="Vendor")
    assert incident_sla_sweep(now=incident.next_update_due_at) == 1
    assert [e.kind for e in sla_events(incident)] == [EventKind.UPDATE_OVERDUE]


def test_p5_never_breaches(open_incident, actor, clock, priorities):
    waiting = open_incident(priority=priorities["P5"], detected_at=clock.now)
    worked = incident_acknowledge(incident=open_incident(priority=priorities["P5"]), by=actor)
    assert (waiting.response_due_at, waiting.resolution_due_at, worked.next_update_due_at) == (
        None,
        None,
        None,
    )

    assert incident_sla_sweep(now=clock.now + timedelta(days=365)) == 0
    assert sla_events(waiting) == sla_events(worked) == []


@pytest.mark.parametrize("path", ["resolved", "closed", "closed_dismissed", "resolved_automatically"])
def test_resolved_and_closed_incidents_are_ignored(path, p2, actor, clock):
    incident = drive(p2, path, human=actor)
    assert incident_sla_sweep(now=clock.now + timedelta(days=30)) == 0
    assert sla_events(incident) == []


def test_lowering_the_priority_moves_the_targets(p2, actor, clock, priorities):
    clock.advance(minutes=10)
    incident = incident_update(incident=p2, by=actor, changes={"priority": priorities["P4"]})
    assert incident.response_due_at == p2.detected_at + timedelta(hours=8)
    assert incident.resolution_due_at == p2.detected_at + timedelta(days=5)

    assert incident_sla_sweep(now=p2.detected_at + timedelta(hours=1)) == 0
    assert incident_sla_sweep(now=p2.detected_at + timedelta(hours=8)) == 1
    [event] = sla_events(incident)
    assert event.details["priority"] == "P4"


def test_lowering_the_priority_after_a_breach_clears_it(p2, actor, clock, priorities):
    clock.advance(minutes=45)
    assert incident_sla_sweep(now=clock.now) == 1
    incident = incident_update(incident=p2, by=actor, changes={"priority": priorities["P4"]})
    assert incident.response_breached_at is None
    assert incident_sla_sweep(now=clock.now) == 0
    assert incident_sla_sweep(now=p2.detected_at + timedelta(hours=8)) == 1
    assert [e.details["priority"] for e in sla_events(incident)] == ["P2", "P4"]


def test_raising_the_priority_can_breach_at_once(open_incident, actor, clock, priorities):
    incident = open_incident(priority=priorities["P4"], detected_at=clock.now)
    clock.advance(minutes=20)
    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P1"]})
    assert incident.response_due_at == incident.detected_at + timedelta(minutes=15)
    assert incident_sla_sweep(now=clock.now) == 1


def test_changing_the_priority_of_a_worked_incident_reschedules_the_update(p2, actor, clock, priorities):
    incident = incident_acknowledge(incident=p2, by=actor)
    clock.advance(minutes=20)
    status_update_create(incident=incident, by=actor, message="Investigating")
    posted_at = clock.now
    clock.advance(minutes=5)
    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P1"]})
    assert incident.next_update_due_at == posted_at + Priority.objects.get(code="P1").update_interval


def test_a_dismissed_incident_breaches_nothing(p2, actor, clock):
    incident_dismiss(incident=p2, by=actor, reason="Noise")
    assert incident_sla_sweep(now=clock.now + timedelta(days=1)) == 0


class TestTask:
    def test_plain_call_sweeps_now(self, p2, clock):
        clock.advance(minutes=31)
        assert tasks.sweep_incident_sla() == 1
        assert tasks.sweep_incident_sla() == 0
        assert Incident.objects.get(pk=p2.pk).response_breached_at == clock.now

    def test_apply(self, p2, clock):
        clock.advance(hours=8)
        result = tasks.sweep_incident_sla.apply()
        assert result.successful()
        assert result.get() == 2
        assert {e.details["target"] for e in sla_events(p2)} == {SlaTarget.RESPONSE, SlaTarget.RESOLUTION}


def test_a_late_acknowledgement_records_the_breach_the_sweeper_missed(p2, actor, clock):
    # No sweep ran (worker down): acting on the incident still puts the breach on the timeline.
    clock.advance(minutes=45)
    incident = incident_acknowledge(incident=p2, by=actor)

    assert incident.response_breached_at == clock.now
    kinds = [e.kind for e in events(incident)]
    assert kinds == [EventKind.CREATED, EventKind.SLA_BREACHED, EventKind.ACKNOWLEDGED]
    assert events(incident, EventKind.SLA_BREACHED)[0].details["target"] == SlaTarget.RESPONSE
    assert incident_sla_sweep(now=clock.now) == 0


def test_an_acknowledgement_in_time_records_no_breach(p2, actor, clock):
    clock.advance(minutes=29)
    incident = incident_acknowledge(incident=p2, by=actor)
    assert incident.response_breached_at is None
    assert sla_events(incident) == []


def test_a_late_status_update_records_the_missed_one_first(p2, actor, clock):
    incident = incident_acknowledge(incident=p2, by=actor)
    clock.advance(hours=3)
    status_update_create(incident=incident, by=actor, message="Still on it")

    assert [e.kind for e in events(incident)][-2:] == [EventKind.UPDATE_OVERDUE, EventKind.STATUS_UPDATE]
    assert incident_sla_sweep(now=clock.now) == 0


def test_an_update_long_overdue_is_reminded_once_then_each_interval(p2, actor, clock):
    """The demo found this: a sweep finding an update overdue by many intervals reminded twice in
    two sweeps (the due time, then the latest interval), then each interval."""
    incident = incident_acknowledge(incident=p2, by=actor)
    due = incident.next_update_due_at
    late = due + timedelta(hours=9)  # P2 updates every 2 h: four intervals and an hour behind.

    reminders = []
    for now in (late, late + MINUTE, due + timedelta(hours=10) - MINUTE, due + timedelta(hours=10)):
        incident_sla_sweep(now=now)  # The resolution target breaches on the way too.
        reminders.append(len(events(incident, EventKind.UPDATE_OVERDUE)))

    assert reminders == [1, 1, 1, 2]

    first, second = events(incident, EventKind.UPDATE_OVERDUE)
    assert first.details["reminder_at"] == (due + timedelta(hours=8)).isoformat()
    assert second.details["reminder_at"] == (due + timedelta(hours=10)).isoformat()
