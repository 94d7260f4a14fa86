"""REST API: the incident list's filters and ordering."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident
from tests.incidents.api_support import client_for, drive, incidents_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(responder):
    return client_for(responder)


# --- Filters ------------------------------------------------------------------------------------------


def refs(response) -> list[str]:
    assert response.status_code == 200, response.data
    return [row["reference"] for row in response.data["results"]]


def test_filter_by_status_takes_several(api, open_incident, actor):
    new = open_incident(title="a")
    working = drive(open_incident(title="b"), "in_progress", by=actor)
    resolved = drive(open_incident(title="c"), "resolved", by=actor)

    assert refs(api.get(incidents_url(), {"status": "new"})) == [new.reference]
    both = refs(api.get(incidents_url(), {"status": ["new", "resolved"]}))
    assert sorted(both) == sorted([new.reference, resolved.reference])
    assert working.reference not in both


def test_filter_by_an_unknown_status_is_400(api):
    response = api.get(incidents_url(), {"status": "exploded"})

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert "status" in response.data


def test_filter_by_priority_code_or_id(api, open_incident, priorities):
    p1 = open_incident(priority=priorities["P1"])
    open_incident(priority=priorities["P3"])

    assert refs(api.get(incidents_url(), {"priority": "P1"})) == [p1.reference]
    assert refs(api.get(incidents_url(), {"priority": "p1"})) == [p1.reference]
    assert refs(api.get(incidents_url(), {"priority": priorities["P1"].pk})) == [p1.reference]
    assert refs(api.get(incidents_url(), {"priority": "P5"})) == []


def test_filter_by_service_slug_or_id(api, open_incident, service_factory):
    web = service_factory(slug="web")
    db = service_factory(slug="db")
    on_web = open_incident(services=[web, db])
    open_incident(services=[db])

    assert refs(api.get(incidents_url(), {"service": "web"})) == [on_web.reference]
    assert refs(api.get(incidents_url(), {"service": web.pk})) == [on_web.reference]
    assert len(refs(api.get(incidents_url(), {"service": "db"}))) == 2


def test_filter_by_assignee_username_or_id(api, open_incident, user_factory):
    bob = user_factory(username="bob")
    numeric = user_factory(username="4242")
    bobs = open_incident(assignee=bob)
    numerics = open_incident(assignee=numeric)
    open_incident()

    assert refs(api.get(incidents_url(), {"assignee": "bob"})) == [bobs.reference]
    assert refs(api.get(incidents_url(), {"assignee": bob.pk})) == [bobs.reference]
    assert refs(api.get(incidents_url(), {"assignee": "4242"})) == [numerics.reference]


def test_filter_by_drill(api, open_incident):
    drill = open_incident(is_drill=True)
    real = open_incident()

    assert refs(api.get(incidents_url(), {"is_drill": "true"})) == [drill.reference]
    assert refs(api.get(incidents_url(), {"is_drill": "false"})) == [real.reference]


def test_filter_by_created_at(api, open_incident):
    now = timezone.now()
    old = open_incident(title="old")
    recent = open_incident(title="recent")
    Incident.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=10))

    cutoff = (now - timedelta(days=1)).isoformat()
    assert refs(api.get(incidents_url(), {"created_after": cutoff})) == [recent.reference]
    assert refs(api.get(incidents_url(), {"created_before": cutoff})) == [old.reference]


def test_filter_by_detected_at(api, open_incident):
    now = timezone.now()
    old = open_incident(title="old", detected_at=now - timedelta(days=10))
    recent = open_incident(title="recent", detected_at=now - timedelta(hours=1))

    cutoff = (now - timedelta(days=1)).isoformat()
    assert refs(api.get(incidents_url(), {"detected_after": cutoff})) == [recent.reference]
    assert refs(api.get(incidents_url(), {"detected_before": cutoff})) == [old.reference]


def test_filter_by_a_bad_date_is_400(api):
    response = api.get(incidents_url(), {"detected_after": "last tuesday"})

    assert response.status_code == 400
    assert "detected_after" in response.data


def test_search_matches_reference_and_title(api, open_incident):
    checkout = open_incident(title="Checkout returns 502")
    disk = open_incident(title="Disk full on db-3")

    assert refs(api.get(incidents_url(), {"search": "checkout"})) == [checkout.reference]
    assert refs(api.get(incidents_url(), {"search": disk.reference})) == [disk.reference]
    assert refs(api.get(incidents_url(), {"search": "disk db-3"})) == [disk.reference]
    assert refs(api.get(incidents_url(), {"search": "disk checkout"})) == []


def test_default_order_is_newest_detection_first_then_id(api, open_incident):
    now = timezone.now()
    old = open_incident(title="old", detected_at=now - timedelta(hours=5))
    same_a = open_incident(title="a", detected_at=now - timedelta(hours=1))
    same_b = open_incident(title="b", detected_at=now - timedelta(hours=1))

    assert refs(api.get(incidents_url())) == [same_b.reference, same_a.reference, old.reference]


def test_ordering_by_priority_breaks_ties_by_id(api, open_incident, priorities):
    p3_a = open_incident(priority=priorities["P3"])
    p1 = open_incident(priority=priorities["P1"])
    p3_b = open_incident(priority=priorities["P3"])

    assert refs(api.get(incidents_url(), {"ordering": "priority"})) == [
        p1.reference,
        p3_a.reference,
        p3_b.reference,
    ]
    assert refs(api.get(incidents_url(), {"ordering": "-priority"})) == [
        p3_b.reference,
        p3_a.reference,
        p1.reference,
    ]


def test_ordering_by_status_follows_the_lifecycle(api, open_incident, actor):
    resolved = drive(open_incident(), "resolved", by=actor)
    new = open_incident()
    on_hold = drive(open_incident(), "on_hold", by=actor)
    working = drive(open_incident(), "in_progress", by=actor)

    assert refs(api.get(incidents_url(), {"ordering": "status"})) == [
        new.reference,
        working.reference,
        on_hold.reference,
        resolved.reference,
    ]


def test_ordering_by_detected_and_created_at(api, open_incident):
    now = timezone.now()
    first = open_incident(detected_at=now - timedelta(hours=3))
    second = open_incident(detected_at=now - timedelta(hours=2))
    Incident.objects.filter(pk=first.pk).update(created_at=now)
    Incident.objects.filter(pk=second.pk).update(created_at=now - timedelta(days=1))

    assert refs(api.get(incidents_url(), {"ordering": "detected_at"})) == [first.reference, second.reference]
    assert refs(api.get(incidents_url(), {"ordering": "created_at"})) == [second.reference, first.reference]
    assert refs(api.get(incidents_url(), {"ordering": "-created_at"})) == [first.reference, second.reference]


def test_ordering_by_an_unknown_field_is_400(api):
    response = api.get(incidents_url(), {"ordering": "title"})

    assert response.status_code == 400
    assert "ordering" in response.data
