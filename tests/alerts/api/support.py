"""Helpers for the alerts REST API tests: Alertmanager payloads, ingestion without processing, the
webhook, row counts that prove a refused request wrote nothing, and request bodies."""

import copy
import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from actions.models import ActionRun
from alerts.models import (
    Alert,
    AlertPayload,
    AlertRule,
    AlertSource,
    AutomatedResponse,
    Silence,
    TriggeredRun,
)
from alerts.parsers import parse
from alerts.services import alerts_ingest
from incidents.models import Incident
from tests.alerts.support import SINGLE

ALERT_NAME = SINGLE["alerts"][0]["labels"]["alertname"]
INSTANCE = SINGLE["alerts"][0]["labels"]["instance"]


def payload(fingerprint: str = "fp-1", status: str = "firing", **labels: str) -> dict:
    data = copy.deepcopy(SINGLE)
    alert = data["alerts"][0]
    alert.update(status=status, fingerprint=fingerprint)
    alert["labels"].update(labels)
    if status == "resolved":
        alert["endsAt"] = "2024-03-05T15:00:00Z"
    data["status"] = status
    return data


def ingest(source: AlertSource, data: dict) -> Alert:
    return alerts_ingest(source=source, payload=parse(source.kind, data), raw=data)[0]


def hook(token: str, data: dict | None = None):
    body = json.dumps(SINGLE if data is None else data)
    return Client().post(f"/hooks/{token}/", data=body, content_type="application/json")


def row_counts() -> dict[str, int]:
    models = (Alert, AlertPayload, AlertRule, AutomatedResponse, Silence, TriggeredRun, Incident, ActionRun)
    return {model.__name__: model.objects.count() for model in models}


def rule_body(**overrides) -> dict:
    body = {
        "name": "Checkout errors",
        "matchers": [{"label": "service", "op": "eq", "value": "checkout"}],
        "alert_name": ALERT_NAME,
        "priority": "P2",
        "incident_policy": "create",
    }
    return {**body, **overrides}


def silence_body(**overrides) -> dict:
    body = {
        "matchers": [{"label": "service", "op": "eq", "value": "checkout"}],
        "ends_at": (timezone.now() + timedelta(hours=2)).isoformat(),
        "reason": "Database upgrade",
    }
    return {**body, **overrides}
