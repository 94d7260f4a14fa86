"""Alerts from a drill source (AlertSource.is_drill) open and join drill incidents only; real
alerts never join a drill incident."""

import pytest

from alerts.models import Alert
from alerts.services.processing import alerts_process
from incidents.models import Incident
from tests.alerts.support import am_alert, am_payload, fire, post

pytestmark = pytest.mark.django_db

ATTACH = {"incident_policy": "attach"}


@pytest.fixture
def drill_source(make_source):
    return make_source(name="Drills", slug="drills", is_drill=True)[0]


def test_an_alert_from_a_drill_source_opens_a_drill_incident(drill_source, rule):
    rule()
    (alert,) = fire(drill_source, am_alert())
    assert alert.incident is not None and alert.incident.is_drill


def test_an_alert_from_a_real_source_opens_a_real_incident(source, rule):
    rule()
    (alert,) = fire(source, am_alert())
    assert alert.incident is not None and not alert.incident.is_drill


def test_a_real_alert_never_joins_an_open_drill_incident_of_its_group(source, drill_source, rule):
    rule(**ATTACH)
    (drill,) = fire(drill_source, am_alert(fingerprint="drill"))
    (real,) = fire(source, am_alert(fingerprint="real"))

    assert drill.incident.is_drill and not real.incident.is_drill
    assert real.incident != drill.incident
    assert Incident.objects.count() == 2


def test_a_drill_alert_never_joins_an_open_real_incident_but_joins_its_drill(source, drill_source, rule):
    rule(**ATTACH)
    (real,) = fire(source, am_alert(fingerprint="real"))
    (first,) = fire(drill_source, am_alert(fingerprint="drill-1"))
    (second,) = fire(drill_source, am_alert(fingerprint="drill-2"))

    assert first.incident != real.incident and first.incident.is_drill
    assert second.incident == first.incident  # Drill alerts group together like real ones.
    assert Incident.objects.count() == 2


def test_an_alert_posted_to_the_webhook_of_a_drill_source_opens_a_drill_incident(client, make_source, rule):
    rule()
    _source, token = make_source(name="Drills", slug="drills", is_drill=True)

    response = post(client, f"/hooks/{token}/", am_payload(am_alert()))
    assert response.status_code == 202
    (alert_id,) = response.json()["alerts"]
    alerts_process(alert_ids=[alert_id])

    assert Alert.objects.get(pk=alert_id).incident.is_drill
