"""The incident page lists the alerts that opened or joined the incident."""

import pytest
from django.urls import reverse

from alerts.services import alert_rule_save
from alerts.services.processing import alerts_process
from common.actor import Actor
from tests.alerts.support import am_alert, am_payload, ingest

pytestmark = pytest.mark.django_db


def test_incident_page_lists_its_alerts(admin_client, make_source):
    alert_rule_save(
        by=Actor.system(), data={"name": "Down", "incident_policy": "attach", "group_by": ["alertname"]}
    )
    source, _ = make_source()
    first, second = ingest(source, am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b")))
    alerts_process(alert_ids=[first.pk, second.pk])
    first.refresh_from_db()

    response = admin_client.get(reverse("admin:incidents_incident_change", args=[first.incident_id]))

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("admin:alerts_alert_change", args=[first.pk]) in page
    assert reverse("admin:alerts_alert_change", args=[second.pk]) in page
