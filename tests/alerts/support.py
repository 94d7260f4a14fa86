"""Alertmanager payloads built in tests, ingestion the way the webhook does it, posting to the
webhook, and the alerts and times the parser tests build."""

import json
from datetime import UTC, datetime
from typing import Any

from alerts.models import Alert, AlertSource
from alerts.parsers import parse
from alerts.services import alerts_ingest
from alerts.services.processing import alerts_process
from tests.alerts.conftest import load


def am_alert(
    name: str = "InstanceDown",
    *,
    status: str = "firing",
    fingerprint: str = "fp-1",
    starts_at: str = "2026-11-22T10:00:00.123456789Z",
    **labels: str,
) -> dict[str, Any]:
    labels = {"alertname": name, "severity": "critical", "instance": "web-1:9100", **labels}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{name} on {labels['instance']}", "description": "It stopped answering."},
        "startsAt": starts_at,
        "endsAt": "2026-11-22T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def am_payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "status": status,
        "receiver": "mitigate",
        "groupKey": "{}:{alertname}",
        "truncatedAlerts": 0,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def ingest(source: AlertSource, data: dict[str, Any]) -> list[Alert]:
    return alerts_ingest(source=source, payload=parse(source.kind, data), raw=data)


def fire(source, *alerts):
    """Ingest Alertmanager alerts and process them now, as the task would; the stored rows."""
    stored = ingest(source, am_payload(*alerts))
    alerts_process(alert_ids=[a.pk for a in stored])
    return [Alert.objects.get(pk=a.pk) for a in stored]


SINGLE = load("alertmanager_firing_single.json")


def post(client, url, data=None, body=None, **headers):
    """POST JSON (`data`, by default one firing Alertmanager alert) or a raw `body` to the webhook."""
    if body is None:
        body = json.dumps(SINGLE if data is None else data)
    return client.post(url, data=body, content_type="application/json", headers=headers)


def assert_error(response, status, code):
    """The webhook's error shape: {"detail", "code"} with this status."""
    assert response.status_code == status, response.content
    payload = response.json()
    assert payload["code"] == code
    assert payload["detail"]
    return payload


# Parser tests: times and Alertmanager alerts written out as the specification gives them.


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def alertmanager_alert(**overrides) -> dict:
    alert = {
        "status": "firing",
        "labels": {"alertname": "Test", "instance": "web-1"},
        "annotations": {},
        "startsAt": "2024-03-05T14:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": "0123456789abcdef",
    }
    alert.update(overrides)
    return alert


def alertmanager_payload(*alerts, **overrides) -> dict:
    payload = {"version": "4", "status": "firing", "receiver": "mitigate", "alerts": list(alerts)}
    payload.update(overrides)
    return payload
