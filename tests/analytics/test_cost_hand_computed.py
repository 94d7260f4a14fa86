from datetime import timedelta
from decimal import Decimal

import pytest

from analytics.cost.record import incident_cost_breakdown
from analytics.models import IncidentCost
from analytics.services.cost import incident_cost_refresh
from postmortems.markdown import postmortem_markdown
from tests.analytics.cost_support import at, hand_computed_incident

pytestmark = pytest.mark.django_db


def test_three_responders_and_a_review_meeting_cost_what_was_computed_by_hand():
    """The record (minutes after 10:00; the incident is worked 10:00-11:30, then reopened 12:00-12:30):

    alice: assigned at 0, note at 5, closes at 190 (after resolution: adds nothing)
           -> [0, 90] = 90 min; she did nothing after the reopen, so not [120, 150].
    bob:   technical lead at 20, note at 40, scribe at 45 (a second role), resolves at 90
           -> [20, 90] U [40, 90] U [45, 90] = [20, 90] = 70 min.
    carol: communications lead at 30, reopens at 120 -> [30, 90] + [120, 150] = 60 + 30 = 90 min.
    dave:  a note at 180, after the resolution -> nothing, not a responder.
    Responders: 90 + 70 + 90 = 250 min = 15,000 s.
    Review meeting: 1 h x 4 invitees = 4 h = 14,400 s.
    Total 29,400 s = 8 h 10 min; rate of payments (the first service's team), 120/h:
    29,400 x 120 / 3,600 = 980.00.
    """
    incident = hand_computed_incident()

    cost = incident_cost_breakdown(incident, now=at(60 * 48))

    assert {r.name: r.seconds for r in cost.responders} == {
        "alice": 90 * 60,
        "bob": 70 * 60,
        "carol": 90 * 60,
    }
    assert cost.responder_seconds == 15_000
    assert (cost.meeting_invitees, cost.meeting_seconds) == (4, 14_400)
    assert (cost.rate.team, cost.rate.rate) == ("payments", Decimal("120.00"))
    assert cost.amount == Decimal("980.00")
    assert cost.open is False
    assert cost.meeting_held is True


def test_the_stored_cost_is_the_breakdown():
    incident = hand_computed_incident()

    incident_cost_refresh(incident_id=incident.pk, now=at(60 * 48))

    stored = IncidentCost.objects.get(incident=incident)
    assert (stored.responders, stored.responder_seconds, stored.meeting_seconds) == (3, 15_000, 14_400)
    assert (stored.team, stored.rate, stored.amount, stored.open) == (
        "payments",
        Decimal("120.00"),
        Decimal("980.00"),
        False,
    )


def test_an_open_incident_is_counted_to_now():
    """Reopened at 120 and not resolved again: carol's second stretch runs to now (200):
    alice 90, bob 70, carol 60 + 80 = 140 -> 300 min."""
    incident = hand_computed_incident()
    incident.timeline_events.filter(occurred_at__gte=at(150)).delete()

    cost = incident_cost_breakdown(incident, now=at(200))

    assert cost.open is True
    assert cost.responder_seconds == 300 * 60
    assert cost.meeting_held is False
    assert cost.computed_at - at(200) == timedelta(0)


def test_the_post_mortem_markdown_has_the_cost_impact():
    incident = hand_computed_incident()

    text = postmortem_markdown(incident.postmortem)

    assert "### Cost impact" in text
    assert "- **Total**: 980.00 USD for 8.17 person-hours at 120.00 USD/h (payments)" in text
    assert "  - bob: 1.17 h" in text
    assert "- **Review meeting**: 4.00 h (4 invitees)" in text
