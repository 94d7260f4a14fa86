"""postmortems.related: earlier incidents on the same services, with the same alert names or similar
titles, most recent first, with their post-mortem's root cause; matched by the database."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_source_create
from common.actor import Actor
from incidents.services import incident_acknowledge, incident_resolve
from postmortems.related import incidents_related, title_words
from postmortems.services import postmortem_create, postmortem_update

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def make(open_incident, priorities):
    def make(title, days_ago, *, services=(), priority="P3", **kwargs):
        detected = NOW - timedelta(days=days_ago)
        return open_incident(
            title=title, priority=priorities[priority], services=services, detected_at=detected, **kwargs
        )

    return make


def alert_on(incident, name, fingerprint):
    source = alert_source_create(by=Actor.system(), name=f"Prom {fingerprint}", kind="alertmanager")[0]
    return Alert.objects.create(
        source=source,
        fingerprint=fingerprint,
        name=name,
        starts_at=incident.detected_at,
        received_at=incident.detected_at,
        last_received_at=incident.detected_at,
        incident=incident,
    )


def test_related_incidents_by_service_alert_and_title_most_recent_first(make, service_factory, human):
    web, db = service_factory(name="Web"), service_factory(name="Database")
    same_service = make("Slow pages on the storefront", 30, services=[web])
    same_alert = make("Pager went off at night", 20)
    alert_on(same_alert, "HighErrorRate", "a")
    similar_title = make("Checkout returns 502 errors", 10)
    unrelated = make("Printer on fire", 5, services=[db])
    drill = make("Checkout returns 502 errors (drill)", 4, services=[web], is_drill=True)
    current = make("Checkout returns 502", 1, services=[web])
    alert_on(current, "HighErrorRate", "b")
    later = make("Checkout returns 502 again", 0, services=[web])

    # The one with a post-mortem tells what it found.
    resolved = incident_resolve(
        incident=incident_acknowledge(incident=same_service, by=human), by=human, summary="Cache flushed."
    )
    postmortem = postmortem_create(incident=resolved, by=human)
    postmortem_update(
        postmortem=postmortem, by=human, data={"root_cause": "The cache was cold after a deploy."}
    )

    related = incidents_related(incident=current)

    assert [r.incident for r in related] == [similar_title, same_alert, same_service]
    reasons = {r.incident.pk: r.reasons for r in related}
    assert reasons[same_service.pk] == ["same service: Web"]
    assert reasons[same_alert.pk] == ["same alert: HighErrorRate"]
    assert len(reasons[similar_title.pk]) == 1 and reasons[similar_title.pk][0].startswith("similar title")
    assert related[2].root_cause == "The cache was cold after a deploy."
    assert related[2].postmortem == postmortem and related[0].postmortem is None
    assert unrelated not in [r.incident for r in related]
    assert drill not in [r.incident for r in related] and later not in [r.incident for r in related]


def test_the_limit_keeps_the_most_recent(make, service_factory):
    web = service_factory(name="Web")
    older = [make(f"Outage {i}", 10 + i, services=[web]) for i in range(5)]
    current = make("Something else entirely", 1, services=[web])

    assert [r.incident for r in incidents_related(incident=current, limit=3)] == older[:3]


def test_query_count_does_not_grow_with_history(make, service_factory, django_assert_max_num_queries):
    web = service_factory(name="Web")
    for i in range(30):
        incident = make(f"Checkout returns 502 number {i}", 2 + i, services=[web])
        alert_on(incident, "HighErrorRate", f"fp-{i}")
    current = make("Checkout returns 502", 1, services=[web])
    alert_on(current, "HighErrorRate", "now")

    with django_assert_max_num_queries(6):
        related = incidents_related(incident=current)
    assert len(related) == 10


def test_nothing_related_is_an_empty_list(make):
    assert incidents_related(incident=make("Lonely", 1)) == []


def test_title_words_pick_the_distinctive_ones():
    assert title_words("Checkout returns 502 errors after the deploy") == [
        "checkout",
        "returns",
        "deploy",
        "errors",
    ]
