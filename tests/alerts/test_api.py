"""Alerts REST API: sources and their tokens, alerts and their filters, rules with nested responses,
the rule tester, silences, and who may do what."""

import copy
import json
from datetime import timedelta

import pytest
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
from tests.actions.api_support import api_url, client_for, token_client
from tests.actions.factories import ActionFactory, ActionRunFactory
from tests.alerts.conftest import load

pytestmark = pytest.mark.django_db

SINGLE = load("alertmanager_firing_single.json")
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


@pytest.fixture
def admin_client(admin_user):
    return token_client(admin_user)


@pytest.fixture
def client_as(user_factory):
    def make(group: str):
        if group == "anonymous":
            return client_for(None)
        return token_client(user_factory(username=f"{group.lower()}-member", groups=[group]))

    return make


@pytest.fixture
def host_action(action_factory):
    """An action declaring one parameter, `host`, that responses map from the alert's labels."""

    def make(name: str = "Restart service"):
        return action_factory(
            name=name, parameters=[{"name": "host", "required": True, "pattern": r"^[A-Za-z0-9.:-]+$"}]
        )

    return make


@pytest.fixture
def action_factory(db):
    return ActionFactory


@pytest.fixture
def action_run_factory(db):
    return ActionRunFactory


# --- Sources ----------------------------------------------------------------------------------


def test_create_source_shows_token_and_url_once(admin_client, service_factory):
    service = service_factory()

    created = admin_client.post(
        api_url("alert-sources"),
        {"name": "Prod Alertmanager", "kind": "alertmanager", "default_service": service.slug},
    )

    assert created.status_code == 201, created.data
    token = created.data["token"]
    assert len(token) >= 40
    assert created.data["webhook_url"] == f"http://testserver/hooks/{token}/"
    assert created.data["token_prefix"] == token[:8]
    assert created.data["slug"] == "prod-alertmanager"
    assert created.data["default_service"] == service.slug
    assert created.data["hmac_secret_set"] is False
    source_id = created.data["id"]
    for url in (api_url("alert-sources", source_id), api_url("alert-sources")):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert token not in response.content.decode()
        assert b'"token"' not in response.content
        assert b"webhook_url" not in response.content
    assert admin_client.get(api_url("alert-sources", source_id)).data["token_prefix"] == token[:8]
    # The token works at the webhook.
    assert hook(token).status_code in (200, 201, 202)


def test_rotate_token_invalidates_the_old_one(admin_client, make_source):
    source, old = make_source()

    rotated = admin_client.post(api_url("alert-sources", source, "rotate-token"))

    assert rotated.status_code == 200, rotated.data
    new = rotated.data["token"]
    assert new != old
    assert rotated.data["webhook_url"] == f"http://testserver/hooks/{new}/"
    assert hook(old).status_code == 401
    assert hook(new).status_code in (200, 201, 202)
    shown = admin_client.get(api_url("alert-sources", source))
    assert shown.data["token_prefix"] == new[:8]
    assert new not in shown.content.decode()


def test_hmac_secret_is_write_only(admin_client):
    secret = "grafana-signing-secret-42"

    created = admin_client.post(
        api_url("alert-sources"), {"name": "Grafana", "kind": "grafana", "hmac_secret": secret}
    )
    source = AlertSource.objects.get(pk=created.data["id"])
    url = api_url("alert-sources", source)
    renamed = admin_client.patch(url, {"name": "Grafana prod"})
    listed = admin_client.get(api_url("alert-sources"))

    assert created.status_code == 201
    assert renamed.status_code == 200
    for response in (created, renamed, listed, admin_client.get(url)):
        assert secret not in response.content.decode()
        assert b'"hmac_secret"' not in response.content
    assert renamed.data["hmac_secret_set"] is True
    assert AlertSource.objects.get(pk=source.pk).hmac_secret == secret  # Left out: kept.
    cleared = admin_client.patch(url, {"hmac_secret": ""})
    assert cleared.data["hmac_secret_set"] is False
    assert AlertSource.objects.get(pk=source.pk).hmac_secret == ""


def test_source_by_slug_edit_and_delete(admin_client, make_source, service_factory):
    source, _ = make_source(name="Prometheus EU")
    service = service_factory()

    shown = admin_client.get(api_url("alert-sources", "prometheus-eu"))
    patched = admin_client.patch(
        api_url("alert-sources", source),
        {"rate_limit_per_minute": 60, "default_service": service.pk, "enabled": False},
    )

    assert shown.status_code == 200 and shown.data["id"] == source.pk
    assert patched.status_code == 200, patched.data
    source.refresh_from_db()
    assert (source.rate_limit_per_minute, source.default_service, source.enabled) == (60, service, False)
    assert admin_client.delete(api_url("alert-sources", source)).status_code == 204
    assert not AlertSource.objects.filter(pk=source.pk).exists()


def test_source_label_limits_through_the_api(admin_client, make_source, settings):
    settings.ALERT_MAX_LABELS = 40
    created = admin_client.post(api_url("alert-sources"), {"name": "Limited", "kind": "alertmanager"})
    assert created.status_code == 201, created.data
    assert (created.data["max_labels"], created.data["max_label_value_length"]) == (40, 2048)

    url = api_url("alert-sources", created.data["id"])
    patched = admin_client.patch(url, {"max_labels": 10, "max_annotation_value_length": 500})
    refused = admin_client.patch(url, {"max_label_name_length": 0})

    assert patched.status_code == 200, patched.data
    assert (patched.data["max_labels"], patched.data["max_annotation_value_length"]) == (10, 500)
    assert refused.status_code == 400 and "max_label_name_length" in refused.data
    assert AlertSource.objects.get(pk=created.data["id"]).max_label_name_length == 256


def test_source_bad_input_writes_nothing(admin_client, make_source):
    make_source(name="Prometheus")
    before = AlertSource.objects.count()

    duplicate = admin_client.post(api_url("alert-sources"), {"name": "Prometheus", "kind": "alertmanager"})
    bad_kind = admin_client.post(api_url("alert-sources"), {"name": "Other", "kind": "nagios"})
    token = admin_client.post(api_url("alert-sources"), {"name": "X", "kind": "generic", "token_hash": "x"})

    assert duplicate.status_code == 400 and "name" in duplicate.data
    assert bad_kind.status_code == 400 and "kind" in bad_kind.data
    assert token.status_code == 400 and "token_hash" in token.data
    assert AlertSource.objects.count() == before


# --- Alerts -----------------------------------------------------------------------------------


@pytest.fixture
def two_alerts(make_source, service_factory, open_incident):
    """Alert `firing` (source prom, service checkout, processed, with an incident, received an hour
    ago) and alert `silenced` (source loki, resolved, unprocessed, silenced, received now)."""
    prom, _ = make_source(name="Prom")
    loki, _ = make_source(name="Loki")
    service = service_factory(slug="checkout")
    incident = open_incident()
    firing = ingest(prom, payload("fp-firing"))
    silenced = ingest(loki, payload("fp-silenced", alertname="DiskFull"))
    silenced = ingest(loki, payload("fp-silenced", status="resolved", alertname="DiskFull"))
    silence = Silence.objects.create(
        matchers=[{"label": "alertname", "op": "eq", "value": "DiskFull"}],
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=1),
        reason="Disk migration",
    )
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Alert.objects.filter(pk=firing.pk).update(
        service=service, incident=incident, processed=True, received_at=an_hour_ago
    )
    Alert.objects.filter(pk=silenced.pk).update(silenced_by=silence, processed=False)
    return {"firing": firing, "silenced": silenced, "prom": prom, "loki": loki, "service": service}


def test_alert_filters(admin_client, two_alerts):
    firing, silenced = two_alerts["firing"], two_alerts["silenced"]
    incident = Alert.objects.get(pk=firing.pk).incident
    half_an_hour_ago = (timezone.now() - timedelta(minutes=30)).isoformat()
    cases = {
        "": {firing, silenced},
        "status=firing": {firing},
        "status=resolved": {silenced},
        "source=prom": {firing},
        f"source={two_alerts['loki'].pk}": {silenced},
        "service=checkout": {firing},
        f"service={two_alerts['service'].pk}": {firing},
        "silenced=true": {silenced},
        "silenced=false": {firing},
        "processed=true": {firing},
        "processed=false": {silenced},
        f"incident={incident.reference}": {firing},
        f"incident={incident.pk}": {firing},
        "name=DiskFull": {silenced},
        f"name={ALERT_NAME}": {firing},
        "fingerprint=fp-firing": {firing},
        "fingerprint=nope": set(),
        f"received_after={half_an_hour_ago}": {silenced},
        f"received_before={half_an_hour_ago}": {firing},
    }
    for query, want in cases.items():
        response = admin_client.get(api_url("alerts"), dict(p.split("=", 1) for p in query.split("&") if p))
        assert response.status_code == 200, (query, response.data)
        assert {row["id"] for row in response.data["results"]} == {a.pk for a in want}, query

    assert admin_client.get(api_url("alerts"), {"status": "bogus"}).status_code == 400


def test_alerts_newest_first_with_what_processing_did(
    admin_client, two_alerts, host_action, action_run_factory
):
    firing = two_alerts["firing"]
    action = host_action()
    rule = AlertRule.objects.create(name="Checkout errors")
    response = AutomatedResponse.objects.create(rule=rule, action=action, parameters={"host": "x"})
    run = action_run_factory(action=action, status="running")
    TriggeredRun.objects.create(alert=firing, response=response, run=run, trigger="immediate")
    TriggeredRun.objects.create(alert=firing, response=response, trigger="after_delay", error="No host.")
    Alert.objects.filter(pk=firing.pk).update(
        rule=rule,
        matches=[{"rule": rule.pk, "name": rule.name, "reasons": ["alertname = HighErrorRate: yes"]}],
        notes=["Matched Checkout errors."],
    )

    listed = admin_client.get(api_url("alerts"))
    detail = admin_client.get(api_url("alerts", firing))

    assert [row["id"] for row in listed.data["results"]] == [two_alerts["silenced"].pk, firing.pk]
    assert detail.status_code == 200
    row = detail.data
    incident = Alert.objects.get(pk=firing.pk).incident
    assert (row["incident"], row["incident_id"]) == (incident.reference, incident.pk)
    assert row["labels"]["alertname"] == ALERT_NAME
    assert row["annotations"]["summary"]
    assert row["matches"][0]["name"] == "Checkout errors"
    assert row["notes"] == ["Matched Checkout errors."]
    assert row["rule"] == "Checkout errors"
    assert row["silenced"] is False
    assert [(t["action"], t["status"], t["trigger"], t["error"]) for t in row["triggered_runs"]] == [
        (action.name, "running", "immediate", ""),
        (action.name, None, "after_delay", "No host."),
    ]
    assert row["triggered_runs"][0]["run_id"] == run.pk
    assert listed.data["results"][0]["silenced"] is True


# Token, user and group permissions, count, page, triggered runs.
ALERT_LIST_QUERIES = 6


@pytest.mark.parametrize("size", [1, 20])
def test_alert_list_runs_a_constant_number_of_queries(
    viewer,
    make_source,
    service_factory,
    open_incident,
    host_action,
    action_run_factory,
    size,
    django_assert_num_queries,
):
    source, _ = make_source()
    service = service_factory()
    incident = open_incident()
    action = host_action()
    rule = AlertRule.objects.create(name="Rule")
    response = AutomatedResponse.objects.create(rule=rule, action=action, parameters={"host": "x"})
    for i in range(size):
        alert = ingest(source, payload(f"fp-{i}"))
        Alert.objects.filter(pk=alert.pk).update(service=service, incident=incident, rule=rule)
        TriggeredRun.objects.create(
            alert=alert, response=response, run=action_run_factory(action=action), trigger="immediate"
        )
    client = token_client(viewer)

    with django_assert_num_queries(ALERT_LIST_QUERIES):
        listed = client.get(api_url("alerts"))

    assert len(listed.data["results"]) == size
    assert all(row["triggered_runs"][0]["action"] == action.name for row in listed.data["results"])


def test_create_incident_from_alert(client_as, make_source):
    source, _ = make_source()
    alert = ingest(source, payload())
    responder = client_as("Responder")

    created = responder.post(api_url("alerts", alert, "create-incident"))
    again = responder.post(api_url("alerts", alert, "create-incident"))

    assert created.status_code == 201, created.data
    alert.refresh_from_db()
    assert alert.incident.reference == created.data["reference"]
    assert created.data["id"] == alert.incident_id
    assert again.status_code == 409
    assert again.data["code"] == "conflict"
    assert alert.incident.reference in again.data["detail"]
    assert Incident.objects.count() == 1
    assert client_as("Viewer").post(api_url("alerts", alert, "create-incident")).status_code == 403


def test_alerts_are_read_only(admin_client, make_source):
    source, _ = make_source()
    alert = ingest(source, payload())

    assert admin_client.post(api_url("alerts"), {"fingerprint": "x"}).status_code == 405
    assert admin_client.patch(api_url("alerts", alert), {"status": "resolved"}).status_code == 405
    assert admin_client.delete(api_url("alerts", alert)).status_code == 405


# --- Rules ------------------------------------------------------------------------------------


def rule_body(**overrides) -> dict:
    body = {
        "name": "Checkout errors",
        "matchers": [{"label": "service", "op": "eq", "value": "checkout"}],
        "alert_name": ALERT_NAME,
        "priority": "P2",
        "incident_policy": "create",
    }
    return {**body, **overrides}


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


# --- Silences ---------------------------------------------------------------------------------


def silence_body(**overrides) -> dict:
    body = {
        "matchers": [{"label": "service", "op": "eq", "value": "checkout"}],
        "ends_at": (timezone.now() + timedelta(hours=2)).isoformat(),
        "reason": "Database upgrade",
    }
    return {**body, **overrides}


def test_responder_creates_and_expires_a_silence(responder):
    client = token_client(responder)

    created = client.post(api_url("silences"), silence_body())

    assert created.status_code == 201, created.data
    assert created.data["created_by"] == "responder"
    assert created.data["active"] is True
    silence = Silence.objects.get(pk=created.data["id"])
    assert silence.created_by == responder
    assert silence.starts_at <= timezone.now()

    expired = client.post(api_url("silences", silence, "expire"))

    assert expired.status_code == 200, expired.data
    assert expired.data["active"] is False
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()
    assert Silence.objects.count() == 1  # Expired, still on record.


def test_silence_edit_filter_and_bad_input(admin_client):
    now = timezone.now()
    active = Silence.objects.create(
        matchers=[{"label": "a", "op": "exists"}],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        reason="Now",
    )
    over = Silence.objects.create(
        matchers=[{"label": "a", "op": "exists"}],
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=1),
        reason="Before",
    )
    future = Silence.objects.create(
        matchers=[{"label": "a", "op": "exists"}],
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=2),
        reason="Later",
    )

    def ids(**query):
        return {row["id"] for row in admin_client.get(api_url("silences"), query).data["results"]}

    assert ids(active="true") == {active.pk}
    assert ids(active="false") == {over.pk, future.pk}
    assert ids() == {active.pk, over.pk, future.pk}

    patched = admin_client.patch(api_url("silences", future), {"reason": "Moved maintenance"})
    assert patched.status_code == 200 and patched.data["reason"] == "Moved maintenance"

    before = row_counts()
    no_matchers = admin_client.post(api_url("silences"), silence_body(matchers=[]))
    backwards = admin_client.post(
        api_url("silences"), silence_body(ends_at=(now - timedelta(hours=1)).isoformat())
    )
    bad_op = admin_client.patch(api_url("silences", active), {"matchers": [{"label": "a", "op": "~"}]})
    assert no_matchers.status_code == 400 and no_matchers.data["matchers"]
    assert backwards.status_code == 400 and backwards.data["ends_at"]
    assert bad_op.status_code == 400 and bad_op.data["matchers"]
    assert row_counts() == before
    active.refresh_from_db()
    assert active.matchers == [{"label": "a", "op": "exists"}]


# --- Who may do what --------------------------------------------------------------------------

LISTS = ("alert-sources", "alerts", "alert-rules", "silences")


@pytest.mark.parametrize("group", ["anonymous", "Viewer", "Responder", "Admin"])
def test_read_access(client_as, group):
    client = client_as(group)

    for resource in LISTS:
        assert client.get(api_url(resource)).status_code == (401 if group == "anonymous" else 200), resource
    test = client.post(api_url("alert-rules", action="test"), {"kind": "alertmanager", "payload": SINGLE})
    assert test.status_code == (401 if group == "anonymous" else 200)


@pytest.mark.parametrize(
    ("group", "sources", "rules", "silences"),
    [
        ("anonymous", 401, 401, 401),
        ("Viewer", 403, 403, 403),
        ("Responder", 403, 403, 201),
        ("Admin", 201, 201, 201),
    ],
)
def test_write_access(client_as, make_source, group, sources, rules, silences):
    existing, _ = make_source(name="Existing")
    client = client_as(group)
    before = row_counts()

    assert client.post(api_url("alert-sources"), {"name": "New", "kind": "generic"}).status_code == sources
    rotate = client.post(api_url("alert-sources", existing, "rotate-token"))
    assert rotate.status_code == (200 if sources == 201 else sources)
    assert client.post(api_url("alert-rules"), rule_body()).status_code == rules
    assert client.post(api_url("silences"), silence_body()).status_code == silences

    if group in ("anonymous", "Viewer"):
        assert row_counts() == before
        assert AlertSource.objects.get(pk=existing.pk).token_hash == existing.token_hash


def test_schema_documents_the_alerts_api(admin_client, tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    for path in (
        "/api/v1/alert-sources/",
        "/api/v1/alert-sources/{id}/rotate-token/",
        "/api/v1/alerts/",
        "/api/v1/alerts/{id}/create-incident/",
        "/api/v1/alert-rules/",
        "/api/v1/alert-rules/test/",
        "/api/v1/silences/",
        "/api/v1/silences/{id}/expire/",
    ):
        assert path in paths, path
    components = schema["components"]["schemas"]
    assert "hmac_secret" in components["AlertSourceCreateInputRequest"]["properties"]
    assert not {"hmac_secret", "token"} & set(components["AlertSource"]["properties"])
    assert "token" in components["AlertSourceCreated"]["properties"]
