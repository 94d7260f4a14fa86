"""The alerts admin for rules and silences: rules with matchers and responses saved through
alert_rule_save, silences, and the rule tester (reads only)."""

import json
from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from actions.models import ActionRun
from alerts.admin.base import matchers_parse
from alerts.models import (
    Alert,
    AlertPayload,
    AlertRule,
    AutomatedResponse,
    Silence,
    TriggeredRun,
)
from alerts.services import alert_rule_save, silence_save
from common.actor import Actor
from incidents.models import Incident
from tests.actions.factories import ActionFactory
from tests.admin_support import admin_url, form_data
from tests.alerts.conftest import load

pytestmark = pytest.mark.django_db

url = partial(admin_url, "alerts")
SINGLE = load("alertmanager_firing_single.json")


# --- Rules -----------------------------------------------------------------------------------------


def rule_post(admin_client, path: str, responses: list[dict] | None = None, **fields) -> dict:
    page = admin_client.get(path)
    data = form_data(page)
    data.update(
        {
            "name": "Checkout errors",
            "order": "10",
            "enabled": "on",
            "incident_policy": "create",
            "group_by": "alertname, service",
        }
    )
    data.update(fields)
    existing = int(data.get("responses-INITIAL_FORMS", 0))
    for i, response in enumerate(responses or []):
        index = existing + i
        data.update({f"responses-{index}-{k}": v for k, v in response.items()})
    data["responses-TOTAL_FORMS"] = str(existing + len(responses or []))
    return data


def test_rule_matchers_round_trip(admin_client):
    text = 'severity="critical"\nenv!="staging"\ninstance=~"web-.*"\nteam'
    data = rule_post(admin_client, url("alertrule_add"), matchers=text)

    response = admin_client.post(url("alertrule_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = AlertRule.objects.get()
    assert rule.matchers == matchers_parse(text)
    assert rule.group_by == ["alertname", "service"]
    change = admin_client.get(url("alertrule_change", rule.pk))
    assert change.context["adminform"].form["matchers"].value() == text
    listing = admin_client.get(url("alertrule_changelist")).content.decode()
    assert "severity=&quot;critical&quot;, env!=&quot;staging&quot;" in listing
    assert url("alertrule_test") in listing


def test_bad_matcher_is_a_form_error_and_nothing_is_saved(admin_client):
    data = rule_post(admin_client, url("alertrule_add"), matchers='severity="critical"\nenv==prod\nx=~"("')

    response = admin_client.post(url("alertrule_add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["matchers"]
    assert any("Line 2" in e for e in errors)
    assert not AlertRule.objects.exists()


def test_responses_saved_in_order_through_the_service(admin_client, action):
    other = ActionFactory(name="Clear cache")
    data = rule_post(
        admin_client,
        url("alertrule_add"),
        matchers='severity="critical"',
        responses=[
            {
                "order": "20",
                "action": other.pk,
                "trigger": "immediate",
                "delay_seconds": "0",
                "parameters": "{}",
            },
            {
                "order": "10",
                "action": action.pk,
                "trigger": "after_delay",
                "delay_seconds": "60",
                "parameters": '{"host": "{{ alert.labels.instance }}"}',
                "enabled": "on",
            },
        ],
    )

    response = admin_client.post(url("alertrule_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = AlertRule.objects.get()
    saved = list(rule.responses.order_by("order"))
    assert [(r.action, r.order, r.trigger, r.delay_seconds) for r in saved] == [
        (action, 10, "after_delay", 60),
        (other, 20, "immediate", 0),
    ]
    assert saved[0].parameters == {"host": "{{ alert.labels.instance }}"}
    assert admin_client.get(url("alertrule_changelist")).context["cl"].result_list[0].response_count == 2


def test_bad_response_is_an_error_on_its_row_and_nothing_is_saved(admin_client, action):
    rule = alert_rule_save(
        by=Actor.system(),
        data={"name": "Checkout errors", "matchers": []},
        responses=[{"action": action, "parameters": {"host": "{{ alert.labels.instance }}"}}],
    )
    data = rule_post(
        admin_client,
        url("alertrule_change", rule.pk),
        name="Renamed",
        responses=[
            {
                "order": "50",
                "action": action.pk,
                "trigger": "immediate",
                "delay_seconds": "0",
                "parameters": '{"nope": "x"}',
            }
        ],
    )

    response = admin_client.post(url("alertrule_change", rule.pk), data)

    assert response.status_code == 200
    [formset] = [f.formset for f in response.context["inline_admin_formsets"]]
    assert "declares no parameter 'nope'" in formset.forms[1].errors["parameters"][0]
    rule.refresh_from_db()
    assert rule.name == "Checkout errors"
    assert [r.parameters for r in rule.responses.all()] == [{"host": "{{ alert.labels.instance }}"}]


def test_rule_delete_goes_through_the_service(admin_client, action):
    rule = alert_rule_save(by=Actor.system(), data={"name": "Old"}, responses=[{"action": action}])
    response = admin_client.post(url("alertrule_delete", rule.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not AlertRule.objects.exists() and not AutomatedResponse.objects.exists()


# --- Silences --------------------------------------------------------------------------------------


def test_silence_add_then_expire(client, responder):
    client.force_login(responder)
    start = timezone.localtime().replace(second=0, microsecond=0) - timedelta(minutes=5)
    end = start + timedelta(hours=2)
    data = {
        "matchers": 'service="checkout"\nenv!="staging"',
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": end.strftime("%Y-%m-%d"),
        "ends_at_1": end.strftime("%H:%M:%S"),
        "reason": "Database upgrade",
    }

    response = client.post(url("silence_add"), data)

    assert response.status_code == 302
    silence = Silence.objects.get()
    assert silence.created_by == responder
    assert silence.matchers[0] == {"label": "service", "op": "eq", "value": "checkout"}
    page = client.get(url("silence_change", silence.pk)).content.decode()
    assert url("silence_expire", silence.pk) in page
    listing = client.get(url("silence_changelist")).content.decode()
    assert "Active" in listing and "service=&quot;checkout&quot;" in listing

    assert client.get(url("silence_expire", silence.pk)).status_code == 405
    client.post(url("silence_expire", silence.pk))

    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()
    assert "Expired" in client.get(url("silence_changelist")).content.decode()


def test_silence_needs_a_matcher(admin_client):
    now = timezone.localtime()
    data = {
        "matchers": "",
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": now.strftime("%H:%M:%S"),
        "ends_at_0": now.strftime("%Y-%m-%d"),
        "ends_at_1": now.strftime("%H:%M:%S"),
        "reason": "x",
    }
    response = admin_client.post(url("silence_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Silence.objects.exists()


def test_expire_now_action(admin_client):
    silence = silence_save(
        by=Actor.system(),
        data={
            "matchers": [{"label": "team", "op": "exists", "value": ""}],
            "starts_at": timezone.now(),
            "ends_at": timezone.now() + timedelta(hours=1),
            "reason": "maintenance",
        },
    )
    admin_client.post(url("silence_changelist"), {"action": "expire_now", "_selected_action": [silence.pk]})
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()


# --- Rule tester -----------------------------------------------------------------------------------


def _row_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Alert,
            AlertPayload,
            Incident,
            ActionRun,
            TriggeredRun,
            AlertRule,
            Silence,
            AutomatedResponse,
        )
    )


def test_rule_tester_shows_matches_and_writes_nothing(admin_client, source, action):
    alert_rule_save(
        by=Actor.system(),
        data={"name": "Checkout errors", "matchers": [{"label": "service", "op": "eq", "value": "checkout"}]},
        responses=[
            {"action": action, "parameters": {"host": "{{ alert.labels.instance }}"}},
            {"action": action, "parameters": {"host": "{{ alert.labels.missing }}"}},
        ],
    )
    alert_rule_save(by=Actor.system(), data={"name": "Never", "matchers": [{"label": "x", "op": "exists"}]})
    page = admin_client.get(url("alertrule_test"))
    assert page.status_code == 200
    before = _row_counts()

    response = admin_client.post(
        url("alertrule_test"), {"source": source.pk, "kind": "", "payload": json.dumps(SINGLE)}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Checkout errors" in html and "service eq checkout: yes" in html
    assert "Never" not in html
    assert "Opens a P1 incident" in html
    assert "checkout-7d9f8b6c4-xk2lp:8080" in html
    assert "would fail" in html
    assert _row_counts() == before


@pytest.mark.parametrize(
    ("payload", "message"),
    [("{not json", "Not valid JSON"), (json.dumps({"alerts": "nope"}), "parser refused it")],
)
def test_rule_tester_reports_bad_payloads(admin_client, payload, message):
    response = admin_client.post(url("alertrule_test"), {"kind": "alertmanager", "payload": payload})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["payload"])
