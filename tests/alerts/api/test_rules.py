"""Alerts REST API: rules with nested responses, and the rule tester."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import AlertRule, AutomatedResponse, Silence
from tests.actions.api_support import api_url, token_client
from tests.alerts.api.support import ALERT_NAME, INSTANCE, SINGLE, ingest, payload, row_counts, rule_body

pytestmark = pytest.mark.django_db


def test_rule_created_with_responses_in_order(admin_client, host_action, action_factory, service_factory):
    restart = host_action("Restart")
    diagnose = action_factory(name="Diagnose")
    service = service_factory(slug="checkout")
    body = rule_body(
        service="checkout",
        responses=[
            {"action": diagnose.name},
            {
                "action": restart.pk,
                "trigger": "after_approval",
                "parameters": {"host": "{{ alert.labels.instance }}"},
            },
            {"action": "Restart", "trigger": "after_delay", "delay_seconds": 300, "enabled": False},
        ],
    )

    created = admin_client.post(api_url("alert-rules"), body)

    assert created.status_code == 201, created.data
    rule = AlertRule.objects.get(pk=created.data["id"])
    assert (rule.service, rule.priority.code, rule.matchers) == (service, "P2", body["matchers"])
    assert [
        (r["action"], r["trigger"], r["delay_seconds"], r["enabled"]) for r in created.data["responses"]
    ] == [
        ("Diagnose", "immediate", 0, True),
        ("Restart", "after_approval", 0, True),
        ("Restart", "after_delay", 300, False),
    ]
    assert created.data["responses"][1]["parameters"] == {"host": "{{ alert.labels.instance }}"}
    assert admin_client.get(api_url("alert-rules", rule)).data == created.data


def test_rule_responses_replaced_only_when_sent(admin_client, host_action, action_factory):
    restart = host_action("Restart")
    diagnose = action_factory(name="Diagnose")
    rule_id = admin_client.post(
        api_url("alert-rules"), rule_body(responses=[{"action": "Diagnose"}, {"action": "Restart"}])
    ).data["id"]
    url = api_url("alert-rules", rule_id)

    renamed = admin_client.patch(url, {"name": "Checkout 5xx"})
    replaced = admin_client.patch(url, {"responses": [{"action": restart.pk}, {"action": diagnose.pk}]})

    assert [r["action"] for r in renamed.data["responses"]] == ["Diagnose", "Restart"]
    assert replaced.status_code == 200, replaced.data
    assert [r["action"] for r in replaced.data["responses"]] == ["Restart", "Diagnose"]
    assert AutomatedResponse.objects.filter(rule_id=rule_id).count() == 2
    assert admin_client.patch(url, {"responses": []}).data["responses"] == []
    assert admin_client.delete(url).status_code == 204
    assert not AlertRule.objects.filter(pk=rule_id).exists()


def test_bad_matcher_is_a_field_error_and_writes_nothing(admin_client):
    rule = AlertRule.objects.create(name="Existing", matchers=[{"label": "a", "op": "exists"}])
    before = row_counts()

    created = admin_client.post(api_url("alert-rules"), rule_body(matchers=[{"label": "x", "op": "like"}]))
    patched = admin_client.patch(api_url("alert-rules", rule), {"matchers": "service=checkout"})
    bad_regex = admin_client.post(
        api_url("alert-rules"), rule_body(matchers=[{"label": "x", "op": "regex", "value": "("}])
    )

    assert created.status_code == 400
    assert created.data["code"] == "invalid"
    assert "unknown op 'like'" in " ".join(created.data["matchers"])
    assert patched.status_code == 400 and patched.data["matchers"]
    assert bad_regex.status_code == 400 and "invalid regex" in " ".join(bad_regex.data["matchers"])
    assert row_counts() == before
    rule.refresh_from_db()
    assert rule.matchers == [{"label": "a", "op": "exists"}]


def test_bad_response_is_keyed_by_position_and_writes_nothing(admin_client, host_action):
    restart = host_action("Restart")
    rule = AlertRule.objects.create(name="Existing")
    AutomatedResponse.objects.create(rule=rule, action=restart, parameters={"host": "web-1"})
    before = row_counts()

    unknown_parameter = admin_client.post(
        api_url("alert-rules"),
        rule_body(responses=[{"action": "Restart", "parameters": {"hostname": "x"}}, {"action": "Restart"}]),
    )
    second_bad = admin_client.patch(
        api_url("alert-rules", rule),
        {"responses": [{"action": "Restart"}, {"action": "Restart", "trigger": "after_delay"}]},
    )
    unknown_action = admin_client.post(
        api_url("alert-rules"), rule_body(responses=[{"action": "Restart"}, {"action": "Nope"}])
    )

    assert unknown_parameter.status_code == 400
    assert "declares no parameter 'hostname'" in " ".join(unknown_parameter.data["responses.1.parameters"])
    assert "responses.2.parameters" not in unknown_parameter.data
    assert second_bad.status_code == 400 and second_bad.data["responses.2.delay_seconds"]
    assert unknown_action.status_code == 400 and unknown_action.data["responses.2.action"]
    assert row_counts() == before
    assert list(rule.responses.values_list("parameters", flat=True)) == [{"host": "web-1"}]


# Token, user and group permissions, count, page, responses.
RULE_LIST_QUERIES = 6


@pytest.mark.parametrize("size", [1, 20])
def test_rule_list_runs_a_constant_number_of_queries(
    viewer, host_action, service_factory, priorities, size, django_assert_num_queries
):
    action = host_action()
    service = service_factory()
    for i in range(size):
        rule = AlertRule.objects.create(name=f"Rule {i}", service=service, priority=priorities["P1"])
        for _ in range(2):
            AutomatedResponse.objects.create(rule=rule, action=action, parameters={"host": "x"})
    client = token_client(viewer)

    with django_assert_num_queries(RULE_LIST_QUERIES):
        listed = client.get(api_url("alert-rules"))

    assert len(listed.data["results"]) == size
    assert all(len(row["responses"]) == 2 for row in listed.data["results"])


# --- Rule tester ------------------------------------------------------------------------------


def test_rule_tester_previews_and_writes_nothing(client_as, make_source, host_action):
    make_source(name="Prom")
    restart = host_action("Restart")
    rule = AlertRule.objects.create(
        name="Checkout errors", matchers=[{"label": "service", "op": "eq", "value": "checkout"}]
    )
    AutomatedResponse.objects.create(
        rule=rule, action=restart, parameters={"host": "{{ alert.labels.instance }}"}
    )
    AlertRule.objects.create(name="Never", alert_name="Other")
    before = row_counts()
    viewer = client_as("Viewer")

    tested = viewer.post(api_url("alert-rules", action="test"), {"kind": "alertmanager", "payload": SINGLE})
    with_source = viewer.post(api_url("alert-rules", action="test"), {"source": "prom", "payload": SINGLE})

    assert tested.status_code == 200, tested.data
    (preview,) = tested.data["alerts"]
    assert preview["name"] == ALERT_NAME
    assert preview["status"] == "firing"
    assert preview["existing_alert"] is None
    assert preview["silence"] is None
    assert [(m["rule"], m["name"]) for m in preview["matches"]] == [(rule.pk, "Checkout errors")]
    assert preview["matches"][0]["reasons"]
    assert preview["outcome"].startswith("Opens a P1 incident")
    assert preview["responses"] == [
        {
            "action": "Restart",
            "trigger": "immediate",
            "delay_seconds": 0,
            "parameters": {"host": INSTANCE},
            "error": "",
        }
    ]
    assert with_source.status_code == 200, with_source.data
    assert with_source.data["alerts"][0]["matches"] == preview["matches"]
    assert row_counts() == before


def test_rule_tester_sees_open_alerts_and_silences(admin_client, make_source):
    source, _ = make_source(name="Prom")
    alert = ingest(source, payload(SINGLE["alerts"][0]["fingerprint"]))
    silence = Silence.objects.create(
        matchers=[{"label": "service", "op": "eq", "value": "checkout"}],
        starts_at=timezone.now() - timedelta(minutes=5),
        ends_at=timezone.now() + timedelta(hours=1),
        reason="Deploy",
    )
    url = api_url("alert-rules", action="test")

    repeated = admin_client.post(url, {"source": source.pk, "payload": SINGLE})
    silenced = admin_client.post(url, {"kind": "alertmanager", "payload": SINGLE})

    assert repeated.data["alerts"][0]["existing_alert"] == alert.pk
    assert f"#{alert.pk}" in repeated.data["alerts"][0]["outcome"]
    assert silenced.data["alerts"][0]["silence"]["id"] == silence.pk
    assert "Silenced" in silenced.data["alerts"][0]["outcome"]


def test_rule_tester_refuses_bad_input(admin_client):
    url = api_url("alert-rules", action="test")
    before = row_counts()

    bad_payload = admin_client.post(url, {"kind": "alertmanager", "payload": {"alerts": "nope"}})
    not_an_object = admin_client.post(url, {"kind": "generic", "payload": [1, 2]})
    no_kind = admin_client.post(url, {"payload": SINGLE})
    bad_kind = admin_client.post(url, {"kind": "nagios", "payload": SINGLE})
    no_source = admin_client.post(url, {"source": "missing", "payload": SINGLE})

    assert bad_payload.status_code == 400
    assert bad_payload.data["payload"] and "alerts" in bad_payload.data["payload"][0]
    assert not_an_object.status_code == 400 and not_an_object.data["payload"]
    assert no_kind.status_code == 400 and no_kind.data["kind"]
    assert bad_kind.status_code == 400 and bad_kind.data["kind"]
    assert no_source.status_code == 400 and no_source.data["source"]
    assert row_counts() == before
