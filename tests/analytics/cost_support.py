"""The hand-computed incident of the cost tests (test_cost*.py), written as its record: timeline
events at known times, two services of two teams with rates, and a post-mortem review meeting."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from analytics.models import HourlyRate
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent
from postmortems.models import Postmortem
from tests.factories import IncidentFactory, ServiceFactory, UserFactory

T0 = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(incident: Incident, minutes: int, kind: str, actor=None, **details) -> TimelineEvent:
    return event_at(incident, at(minutes), kind, actor, **details)


def event_at(incident: Incident, when: datetime, kind: str, actor=None, **details) -> TimelineEvent:
    return TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        occurred_at=when,
        actor=actor,
        actor_name=actor.get_username() if actor else "system",
        source="admin" if actor else "system",
        message=kind,
        details=details,
    )


def hand_computed_incident() -> Incident:
    """Three responders with overlapping work, a reopen, and a review meeting (see
    test_cost_hand_computed.py for the arithmetic)."""
    alice, bob, carol, dave = (UserFactory(username=n) for n in ("alice", "bob", "carol", "dave"))
    reviewers = [alice, bob, carol, dave]
    HourlyRate.objects.create(team="payments", rate=Decimal("120.00"))
    HourlyRate.objects.create(team="platform", rate=Decimal("80.00"))
    # Added first: its team's rate is the incident's.
    payments = ServiceFactory(slug="payments-api", name="Payments API", owner_team="payments")
    platform = ServiceFactory(slug="core-db", name="Core DB", owner_team="platform")
    incident = IncidentFactory(
        detected_at=T0,
        acknowledged_at=at(5),
        resolved_at=at(150),
        status="resolved",
        reopen_count=1,
    )
    incident.services.add(payments)
    incident.services.add(platform)
    event(incident, 0, EventKind.CREATED, None, assignee="alice")
    event(incident, 5, EventKind.NOTE, alice)
    event(incident, 20, EventKind.ROLE_ASSIGNED, alice, role="technical_lead", to="bob")
    event(incident, 30, EventKind.ROLE_ASSIGNED, alice, role="communications_lead", to="carol")
    event(incident, 40, EventKind.NOTE, bob)
    event(incident, 45, EventKind.ROLE_ASSIGNED, alice, role="scribe", to="bob")
    event(incident, 90, EventKind.RESOLVED, bob)
    event(incident, 120, EventKind.REOPENED, carol)
    event(incident, 150, EventKind.RESOLVED, carol)
    event(incident, 180, EventKind.NOTE, dave)
    event(incident, 190, EventKind.CLOSED, alice)
    postmortem = Postmortem.objects.create(incident=incident, severity="P3", review_at=at(60 * 24))
    postmortem.review_attendees.set(reviewers)
    return incident
