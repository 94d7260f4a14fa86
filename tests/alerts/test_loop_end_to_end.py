"""The whole loop with the real parts: an Alertmanager post through the webhook, a real Celery worker
on the configured broker (Redis in CI), the health check over SSH on the test sshd, the resolved
notification, the incident resolved by automation, and (a P1) its post-mortem drafted by the worker."""

import json
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections

from actions.choices import RunStatus
from actions.models import ActionRun, StepRun
from alerts.models import Alert
from alerts.services import alert_rule_save
from common.actor import Actor
from config.celery import app
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident
from postmortems.choices import PostmortemStatus
from postmortems.models import Postmortem
from tests.actions.factories import ActionFactory, ActionStepFactory
from tests.alerts.support import am_alert, am_payload
from tests.common.test_celery_worker import broker  # noqa: F401 - the real broker, isolated

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
WAIT_SECONDS = 60


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out waiting for {what}.")


def post(client, token: str, payload: dict):
    response = client.post(f"/hooks/{token}/", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 202, response.content
    return response


def test_alert_to_ssh_health_check_to_automatic_resolution(broker, client, make_source, ssh_provider):  # noqa: F811
    provider = ssh_provider()
    action = ActionFactory(
        name="Health check",
        parameters=[
            {"name": "host", "required": True, "pattern": r"[A-Za-z0-9.:-]+"},
            {"name": "alert", "required": True, "pattern": r"[A-Za-z0-9_]+"},
        ],
    )
    ActionStepFactory(
        action=action,
        name="Probe",
        provider=provider,
        command="echo probing {{ params.host }} for {{ params.alert }}; test -n {{ params.host }}",
    )
    alert_rule_save(
        by=Actor.system(),
        data={
            "name": "Instances down",
            "matchers": [{"label": "alertname", "op": "eq", "value": "InstanceDown"}],
        },
        responses=[
            {
                "action": action,
                "parameters": {"host": "{{ alert.labels.instance }}", "alert": "{{ alert.name }}"},
            }
        ],
    )
    _, token = make_source()

    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=["default", "actions"]
    ):
        post(client, token, am_payload(am_alert()))
        incident = wait_for(lambda: Incident.objects.filter(alerts__isnull=False).first(), "the incident")
        run = wait_for(
            lambda: ActionRun.objects.filter(incident=incident, status=RunStatus.SUCCEEDED).first(),
            "the health check to succeed",
        )
        post(client, token, am_payload(am_alert(status="resolved")))
        wait_for(
            lambda: Incident.objects.filter(pk=incident.pk, status=IncidentStatus.RESOLVED).exists(),
            "the automatic resolution",
        )
        postmortem = wait_for(
            lambda: Postmortem.objects.filter(incident=incident).first(), "the post-mortem draft"
        )
    connections.close_all()

    step = StepRun.objects.get(run=run)
    assert step.host == f"{provider.address}:{provider.port}" or provider.address in step.host
    assert step.stdout.strip() == "probing web-1:9100 for InstanceDown"
    resolved = Incident.objects.get(pk=incident.pk)
    assert resolved.auto_resolved
    assert resolved.started_at.isoformat().startswith("2026-11-22T10:00:00.123456")
    assert resolved.detected_at == Alert.objects.get().received_at
    kinds = list(resolved.timeline_events.values_list("kind", flat=True))
    for kind in (
        EventKind.ALERT_ATTACHED,
        EventKind.CREATED,
        EventKind.ACTION_REQUESTED,
        EventKind.ACTION_STARTED,
        EventKind.ACTION_FINISHED,
        EventKind.ALERT_RESOLVED,
        EventKind.AUTO_RESOLVED,
    ):
        assert kind in kinds, kind
    assert f"run #{run.pk}" in resolved.timeline_events.get(kind=EventKind.AUTO_RESOLVED).message
    # The resolution was the last thing that happened to the incident itself; then the worker drafted
    # the post-mortem a P1 needs (prefilled from the record), and the timeline ends with that.
    assert resolved.priority.code == "P1"
    assert kinds[-2:] == [EventKind.AUTO_RESOLVED, EventKind.POSTMORTEM]
    postmortem.refresh_from_db()
    assert (postmortem.status, postmortem.severity, postmortem.created_by) == (
        PostmortemStatus.DRAFT,
        "P1",
        None,
    )
    assert resolved.resolution_summary in postmortem.resolution
