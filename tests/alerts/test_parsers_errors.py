"""Every way the payload parsers reject a payload, with the error they give. Pure unit tests: no
database."""

import copy
import json

import pytest

from alerts.parsers import MAX_ALERTS, PayloadError, parse_alertmanager, parse_generic, parse_grafana
from tests.alerts.conftest import load
from tests.alerts.support import alertmanager_alert, alertmanager_payload


def errors_of(parser, data) -> str:
    with pytest.raises(PayloadError) as error:
        parser(data)
    return str(error.value)


@pytest.mark.parametrize("parser", [parse_alertmanager, parse_grafana, parse_generic])
@pytest.mark.parametrize(
    ("data", "kind"), [([], "array"), ("alert", "string"), (None, "null"), (3, "number"), (True, "boolean")]
)
def test_payload_not_an_object(parser, data, kind):
    assert errors_of(parser, data) == f"payload must be a JSON object, not {kind}"


@pytest.mark.parametrize("parser", [parse_alertmanager, parse_grafana, parse_generic])
def test_alerts_not_a_list(parser):
    assert errors_of(parser, {"alerts": {"title": "x"}}) == "alerts must be a list, not object"
    assert errors_of(parser, {"alerts": "x"}) == "alerts must be a list, not string"


@pytest.mark.parametrize("parser", [parse_alertmanager, parse_grafana])
def test_alerts_missing(parser):
    assert errors_of(parser, {"status": "firing", "receiver": "x"}) == "alerts is required"
    assert errors_of(parser, {"alerts": None}) == "alerts is required"


@pytest.mark.parametrize("parser", [parse_alertmanager, parse_grafana, parse_generic])
def test_too_many_alerts(parser):
    alert = alertmanager_alert(title="x")
    message = errors_of(parser, {"alerts": [alert] * (MAX_ALERTS + 1)})
    assert message == "alerts has 1001 alerts; at most 1000 are accepted per payload"


def test_alert_not_an_object():
    payload = alertmanager_payload(alertmanager_alert(), "oops")
    assert errors_of(parse_alertmanager, payload) == "alerts[1] must be a JSON object, not string"


def test_bad_time():
    payload = alertmanager_payload(alertmanager_alert(), alertmanager_alert(startsAt="yesterday"))
    assert errors_of(parse_alertmanager, payload) == "alerts[1].startsAt is not an RFC 3339 time: 'yesterday'"
    payload = alertmanager_payload(alertmanager_alert(status="resolved", endsAt="2024-03-05"), version="1")
    assert errors_of(parse_grafana, payload) == "alerts[0].endsAt is not an RFC 3339 time: '2024-03-05'"
    payload = alertmanager_payload(alertmanager_alert(startsAt=1709647331))
    assert errors_of(parse_alertmanager, payload) == (
        "alerts[0].startsAt must be an RFC 3339 time string, not number"
    )
    batch = {"alerts": [{"title": "a"}, {"title": "b", "starts_at": "now"}]}
    assert errors_of(parse_generic, batch) == "alerts[1].starts_at is not an RFC 3339 time: 'now'"
    single = {"title": "b", "status": "resolved", "ends_at": "5 minutes ago"}
    assert errors_of(parse_generic, single) == "ends_at is not an RFC 3339 time: '5 minutes ago'"


def test_bad_time_even_while_firing():
    """A malformed endsAt is rejected even though a firing alert's end is not kept."""
    payload = alertmanager_payload(alertmanager_alert(endsAt="never"))
    assert errors_of(parse_alertmanager, payload) == "alerts[0].endsAt is not an RFC 3339 time: 'never'"


def test_missing_starts_at():
    alert = alertmanager_alert()
    del alert["startsAt"]
    payload = alertmanager_payload(alertmanager_alert(), alertmanager_alert(), alert)
    assert errors_of(parse_alertmanager, payload) == "alerts[2].startsAt is required"


def test_non_string_label():
    labels = {"alertname": "Test", "port": 5432}
    payload = alertmanager_payload(
        alertmanager_alert(), alertmanager_alert(), alertmanager_alert(labels=labels)
    )
    assert errors_of(parse_alertmanager, payload) == (
        "alerts[2].labels must be an object of strings: alerts[2].labels.port is number"
    )
    labels = {"alertname": "Test", "kubernetes.io/name": None}
    payload = alertmanager_payload(alertmanager_alert(labels=labels), version="1")
    assert errors_of(parse_grafana, payload) == (
        'alerts[0].labels must be an object of strings: alerts[0].labels["kubernetes.io/name"] is null'
    )
    assert errors_of(parse_generic, {"title": "x", "labels": {"on": True}}) == (
        "labels must be an object of strings: labels.on is boolean"
    )


def test_labels_not_an_object_or_missing():
    payload = alertmanager_payload(alertmanager_alert(labels=["alertname=Test"]))
    assert (
        errors_of(parse_alertmanager, payload) == "alerts[0].labels must be an object of strings, not array"
    )
    alert = alertmanager_alert()
    del alert["labels"]
    assert errors_of(parse_alertmanager, alertmanager_payload(alert)) == "alerts[0].labels is required"


def test_non_string_annotation_and_top_level_label_sets():
    payload = alertmanager_payload(alertmanager_alert(annotations={"value": 93.2}))
    assert errors_of(parse_alertmanager, payload) == (
        "alerts[0].annotations must be an object of strings: alerts[0].annotations.value is number"
    )
    payload = alertmanager_payload(commonLabels={"alertname": ["a"]})
    assert errors_of(parse_alertmanager, payload) == (
        "commonLabels must be an object of strings: commonLabels.alertname is array"
    )
    payload = alertmanager_payload(groupLabels="alertname")
    assert errors_of(parse_alertmanager, payload) == "groupLabels must be an object of strings, not string"


def test_bad_status():
    payload = alertmanager_payload(alertmanager_alert(status="pending"))
    assert (
        errors_of(parse_alertmanager, payload)
        == "alerts[0].status must be 'firing' or 'resolved', not 'pending'"
    )
    assert errors_of(parse_alertmanager, alertmanager_payload(status="ok")) == (
        "status must be 'firing' or 'resolved', not 'ok'"
    )
    assert errors_of(parse_generic, {"title": "x", "status": 1}) == (
        "status must be 'firing' or 'resolved', not number"
    )
    alert = alertmanager_alert()
    del alert["status"]
    payload = alertmanager_payload(alert)
    del payload["status"]
    assert errors_of(parse_alertmanager, payload) == (
        "alerts[0].status is required (and the payload has no status)"
    )


def test_wrong_scalar_types():
    assert errors_of(parse_alertmanager, alertmanager_payload(truncatedAlerts="3")) == (
        "truncatedAlerts must be an integer, not string"
    )
    assert errors_of(parse_alertmanager, alertmanager_payload(truncatedAlerts=-1)) == (
        "truncatedAlerts must be at least 0, not -1"
    )
    assert errors_of(parse_alertmanager, alertmanager_payload(receiver=7)) == (
        "receiver must be a string, not number"
    )
    payload = alertmanager_payload(alertmanager_alert(fingerprint=12))
    assert errors_of(parse_alertmanager, payload) == "alerts[0].fingerprint must be a string, not number"
    payload = alertmanager_payload(alertmanager_alert(generatorURL={}))
    assert errors_of(parse_alertmanager, payload) == "alerts[0].generatorURL must be a string, not object"


def test_grafana_bad_fields():
    grafana = load("grafana_values.json")

    data = copy.deepcopy(grafana)
    data["alerts"][0]["values"] = {"B": "94.2"}
    assert errors_of(parse_grafana, data) == (
        "alerts[0].values must be an object of numbers: alerts[0].values.B is string"
    )
    data["alerts"][0]["values"] = json.loads('{"B": NaN}')
    assert errors_of(parse_grafana, data) == (
        "alerts[0].values must be an object of numbers: alerts[0].values.B is nan"
    )
    data["alerts"][0]["values"] = [94.2]
    assert errors_of(parse_grafana, data) == "alerts[0].values must be an object of numbers, not array"

    data = copy.deepcopy(grafana)
    data["alerts"][0]["panelURL"] = 4
    assert errors_of(parse_grafana, data) == "alerts[0].panelURL must be a string, not number"

    data = copy.deepcopy(grafana)
    data["orgId"] = "1"
    assert errors_of(parse_grafana, data) == "orgId must be an integer, not string"

    data = copy.deepcopy(grafana)
    data["message"] = ["**Firing**"]
    assert errors_of(parse_grafana, data) == "message must be a string, not array"


def test_unsupported_version():
    assert errors_of(parse_alertmanager, alertmanager_payload(version="3")) == (
        "unsupported Alertmanager webhook version '3'; expected '4'"
    )
    assert errors_of(parse_alertmanager, alertmanager_payload(version=4)) == (
        "unsupported Alertmanager webhook version 4 (a number); expected '4'"
    )
    assert errors_of(parse_grafana, load("alertmanager_firing_single.json")) == (
        "unsupported Grafana webhook version '4'; expected '1'"
    )
    assert errors_of(parse_alertmanager, load("grafana_values.json")) == (
        "unsupported Alertmanager webhook version '1'; expected '4'"
    )


def test_generic_missing_title():
    assert errors_of(parse_generic, {"severity": "critical"}) == (
        'title is required (or send a batch as {"alerts": [...]})'
    )
    assert errors_of(parse_generic, {"title": None}) == "title is required"
    assert errors_of(parse_generic, {"title": "  "}) == "title must not be empty"
    assert errors_of(parse_generic, {"title": 5}) == "title must be a string, not number"
    batch = {"alerts": [{"title": "ok"}, {"severity": "critical"}]}
    assert errors_of(parse_generic, batch) == "alerts[1].title is required"
    assert errors_of(parse_generic, {"alerts": [{"title": "ok"}, ["x"]]}) == (
        "alerts[1] must be a JSON object, not array"
    )


def test_generic_bad_severity():
    assert errors_of(parse_generic, {"title": "x", "severity": 1}) == "severity must be a string, not number"
