"""Nothing is lost when the broker is down: the webhook still stores the alerts and answers 202,
and the beat sweeper processes them once it can."""

import json
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_rule_save
from alerts.services.processing import alerts_sweep
from common.actor import Actor
from incidents.models import Incident
from tests.alerts.support import am_alert, am_payload
from tests.conftest import celery_broker

pytestmark = pytest.mark.django_db
# Nothing listens on port 1: connections are refused at once, as when Redis is stopped.
DEAD_BROKER = "redis://127.0.0.1:1/0"


def test_alerts_posted_while_the_broker_is_down_are_stored_then_swept(
    client, make_source, django_capture_on_commit_callbacks, caplog
):
    alert_rule_save(by=Actor.system(), data={"name": "Everything", "matchers": []})
    _, token = make_source()
    body = json.dumps(am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b", instance="web-2:9100")))

    with (
        celery_broker(DEAD_BROKER, settings.BROKER_FAIL_FAST),
        caplog.at_level(logging.WARNING, logger="alerts.services.ingest"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = client.post(f"/hooks/{token}/", data=body, content_type="application/json")

    assert response.status_code == 202
    assert len(callbacks) == 1  # One message for the whole payload, which the broker refused.
    assert "Broker unavailable; 2 alert(s) left for the sweeper" in caplog.text
    assert Alert.objects.filter(processed=False).count() == 2
    assert Incident.objects.count() == 0

    assert alerts_sweep(now=timezone.now() + timedelta(minutes=1)) == 2

    assert Alert.objects.filter(processed=True, incident__isnull=False).count() == 2
    assert Incident.objects.count() == 2
