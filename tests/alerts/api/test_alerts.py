"""Alerts REST API: alerts, their filters, what processing did, and incidents created from them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertRule, AutomatedResponse, Silence, TriggeredRun
from incidents.models import Incident
from tests.actions.api_support import api_url, token_client
from tests.alerts.api.support import ALERT_NAME, ingest, payload

pytestmark = pytest.mark.django_db


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
