"""Repeat incidents are marked when what decides it changes: services, root cause, alerts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.services import alert_rule_save, alert_source_create
from alerts.services.processing import alerts_process
from common.actor import Actor
from incidents.services import incident_update
from tests.alerts.support import am_alert, am_payload, ingest

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def opened(open_incident, service_factory):
    web = service_factory(name="Web")

    def make(days_ago: float, *, services=None, **kwargs):
        return open_incident(
            services=[web] if services is None else services,
            detected_at=NOW - timedelta(days=days_ago),
            **kwargs,
        )

    return make


def test_same_service_and_root_cause_within_30_days_is_a_repeat(opened, service_factory):
    opened(20, root_cause_category="deployment")
    assert opened(1, root_cause_category="deployment").is_repeat
    assert not opened(1, root_cause_category="network").is_repeat
    assert not opened(1, root_cause_category="deployment", services=[service_factory(name="DB")]).is_repeat


def test_older_than_30_days_or_a_drill_is_no_precedent(opened):
    opened(40, root_cause_category="deployment")
    opened(10, root_cause_category="deployment", is_drill=True)
    assert not opened(1, root_cause_category="deployment").is_repeat


def test_setting_the_root_cause_later_marks_it(opened, actor):
    opened(5, root_cause_category="capacity")
    later = opened(1)
    assert not later.is_repeat
    assert incident_update(incident=later, by=actor, changes={"root_cause_category": "capacity"}).is_repeat


def test_an_alert_with_the_same_name_on_the_same_service_marks_it(service_factory):
    web = service_factory(name="Web")
    alert_rule_save(by=Actor.system(), data={"name": "Down", "service": web})
    source = alert_source_create(by=Actor.system(), name="Prom", kind="alertmanager")[0]
    first = ingest(source, am_payload(am_alert(fingerprint="a")))
    alerts_process(alert_ids=[a.pk for a in first])
    second = ingest(source, am_payload(am_alert(fingerprint="b", instance="web-2:9100")))
    alerts_process(alert_ids=[a.pk for a in second])

    first[0].refresh_from_db()
    second[0].refresh_from_db()
    assert not first[0].incident.is_repeat
    assert second[0].incident.is_repeat


def test_repeats_are_filterable_in_the_api_and_shown(opened, responder):
    from tests.incidents.api_support import client_for, incidents_url

    opened(20, root_cause_category="deployment")
    repeat = opened(1, root_cause_category="deployment")

    response = client_for(responder).get(incidents_url(), {"is_repeat": "true"})

    assert response.status_code == 200
    assert [row["reference"] for row in response.data["results"]] == [repeat.reference]
    assert response.data["results"][0]["is_repeat"] is True
