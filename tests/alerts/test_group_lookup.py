"""The open incident of an alert group (alerts.selectors.incident_open_for_group) is found from the
group's distinct incidents, walked through the (rule, group_key, incident) index one incident at a
time: the right one among the group's earlier, closed incidents and other groups' open ones, never a
drill's for a real alert, and in one query whatever the number of alerts or incidents of the group."""

import pytest

from alerts.selectors import incident_open_for_group
from common.actor import Actor
from incidents.models import Incident
from incidents.services import incident_dismiss
from tests.alerts.support import am_alert, fire

pytestmark = pytest.mark.django_db


def storm(source, name: str, tag: str, count: int = 4):
    alerts = fire(source, *(am_alert(name, fingerprint=f"{name}-{tag}-{i}") for i in range(count)))
    assert len({alert.incident_id for alert in alerts}) == 1  # one storm, one incident
    return alerts[0]


def test_the_group_s_open_incident_among_its_closed_ones_and_other_groups(
    source, rule, django_assert_num_queries
):
    storms = rule("Storms", matchers=[], incident_policy="attach", group_by=["alertname"])
    rounds = []
    for n in range(3):
        alert = storm(source, "DiskFull", f"round{n}")
        rounds.append(alert.incident)
        if n < 2:  # The group's earlier incidents end; its next alert opens a new one.
            incident_dismiss(incident=alert.incident, by=Actor.system(), reason="Handled")
    other = storm(source, "Latency", "only")
    assert len({incident.pk for incident in rounds}) == 3
    joined = storm(source, "DiskFull", "joins", count=2)
    assert joined.incident == rounds[2]
    key = joined.group_key

    with django_assert_num_queries(1):
        found = incident_open_for_group(rule=storms, key=key)
    assert found == rounds[2]
    assert incident_open_for_group(rule=storms, key=other.group_key) == other.incident
    assert incident_open_for_group(rule=storms, key=key, is_drill=True) is None  # no drill's
    assert incident_open_for_group(rule=storms, key='alertname="Nothing"') is None

    incident_dismiss(incident=rounds[2], by=Actor.system(), reason="Handled")
    assert incident_open_for_group(rule=storms, key=key) is None


def test_the_hand_written_lookup_gives_the_incident_as_the_orm_reads_it(source, rule, service_factory):
    """One hand-written SELECT: the incident, every field as the ORM reads it, and has_services
    (the joins' repeat check needs it) from the incident's services."""
    storms = rule("Storms", matchers=[], incident_policy="attach", group_by=["alertname"])
    bare = storm(source, "DiskFull", "bare")
    served = storm(source, "Latency", "served")
    served.incident.services.set([service_factory()])

    for alert, has_services in ((bare, False), (served, True)):
        found = incident_open_for_group(rule=storms, key=alert.group_key)
        expected = Incident.objects.get(pk=alert.incident_id)
        for field in Incident._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
        assert found.has_services is has_services
        assert not found._state.adding
