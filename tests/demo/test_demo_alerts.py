"""seed_demo's alert loop: the Prometheus source, its rule and the Health check response."""

import os
import stat
from datetime import UTC, datetime
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from actions.parameters import parameters_validate
from alerts.choices import IncidentPolicy, ResponseTrigger, SourceKind
from alerts.management.alert_sender import build_payload
from alerts.management.demo_token_file import demo_token_path, demo_tokens_read
from alerts.models import AlertRule, AlertSource, AutomatedResponse
from alerts.parsers import parse
from alerts.response_parameters import alert_context, response_parameters
from alerts.selectors import alert_plan
from alerts.services import token_hash

RULE = "Storefront instance down or slow"


@pytest.fixture(autouse=True)
def _demo(db, settings, tmp_path):
    settings.DEBUG = True
    settings.ALLOW_LOCAL_PROVIDER = True
    settings.VAR_DIR = tmp_path
    settings.WEB_PORT = 8000  # Whatever PORT the test run was started with.


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--no-history", stdout=out)
    return out.getvalue()


def test_creates_the_source_the_rule_and_the_response():
    out = seed()

    source = AlertSource.objects.select_related("default_service").get(slug="prometheus")
    assert (source.name, source.kind, source.default_service.slug) == (
        "Prometheus",
        SourceKind.ALERTMANAGER,
        "web",
    )
    rule = AlertRule.objects.select_related("service", "priority").get(name=RULE)
    assert (rule.service.slug, rule.priority.code) == ("web", "P2")
    assert rule.incident_policy == IncidentPolicy.ATTACH
    assert rule.group_by == ["alertname", "service"]
    [response] = AutomatedResponse.objects.filter(rule=rule).select_related("action")
    assert response.action.template_key == "health-check" and response.action.enabled
    assert response.trigger == ResponseTrigger.IMMEDIATE
    assert {s.provider.name for s in response.action.steps.all()} == {"this-worker"}

    token = demo_tokens_read()["prometheus"]
    assert token_hash(token) == source.token_hash
    assert stat.S_IMODE(os.stat(demo_token_path()).st_mode) == 0o600
    assert "http://127.0.0.1:8000/hooks/prometheus/" in out
    assert f"Authorization: Bearer {token}" in out
    assert ".venv/bin/python manage.py send_test_alert --source prometheus\n" in out
    assert ".venv/bin/python manage.py send_test_alert --source prometheus --resolve\n" in out


def test_the_test_alert_matches_the_rule_and_checks_the_web_server():
    """What send_test_alert posts by default, processed as the worker would plan it: the demo rule
    matches and its Health check gets a valid endpoint, the web server the alert names."""
    seed()
    source = AlertSource.objects.select_related("default_service").get(slug="prometheus")
    labels = {
        "alertname": "InstanceDown",
        "instance": "127.0.0.1:8000",
        "job": "send_test_alert",
        "service": "web",
        "severity": "critical",
    }
    payload = build_payload(
        source.kind, labels=labels, annotations={}, resolved=False, starts_at=datetime.now(UTC)
    )
    [parsed] = parse(source.kind, payload).alerts

    plan = alert_plan(
        alert_name=parsed.name,
        severity=parsed.severity,
        labels=parsed.labels,
        at=datetime.now(UTC),
        service=source.default_service,
    )
    assert plan.rule.name == RULE and plan.priority_code == "P2"
    [response] = plan.responses

    alert = SimpleNamespace(  # What alert_context reads of an Alert.
        pk=1,
        name=parsed.name,
        status=parsed.status,
        severity=parsed.severity,
        fingerprint=parsed.fingerprint,
        source=source,
        starts_at=parsed.starts_at,
        generator_url="",
        labels=parsed.labels,
        annotations={},
    )
    parameters = response_parameters(response, alert_context(alert))
    assert parameters == {"endpoint": "http://127.0.0.1:8000/admin/login/", "max_load": "8"}
    validated = parameters_validate(response.action.parameters, parameters)
    assert {name: validated[name] for name in parameters} == parameters


def test_running_again_keeps_the_token_and_adds_nothing():
    seed()
    token = demo_tokens_read()["prometheus"]
    counts = (AlertSource.objects.count(), AlertRule.objects.count(), AutomatedResponse.objects.count())

    out = seed()

    assert (
        AlertSource.objects.count(),
        AlertRule.objects.count(),
        AutomatedResponse.objects.count(),
    ) == counts
    assert demo_tokens_read()["prometheus"] == token
    assert f"Authorization: Bearer {token}" in out and "Token unchanged" in out


def test_a_lost_token_is_rotated_so_the_printed_one_works():
    seed()
    old = demo_tokens_read()["prometheus"]
    demo_token_path().unlink()

    out = seed()

    new = demo_tokens_read()["prometheus"]
    assert new != old
    assert AlertSource.objects.get(slug="prometheus").token_hash == token_hash(new)
    assert f"Authorization: Bearer {new}" in out and "rotated" in out


def test_without_local_provider_the_rule_has_no_response(settings):
    settings.ALLOW_LOCAL_PROVIDER = False
    out = seed()
    rule = AlertRule.objects.get(name=RULE)
    assert not rule.responses.exists()
    assert "no responses" in out
