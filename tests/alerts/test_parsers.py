"""Alert payload parsers on fixtures written from the Alertmanager, Grafana and generic format
specifications, and every way a payload is rejected. Pure unit tests: no database."""

import copy
import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.parsers import (
    MAX_ALERTS,
    PARSERS,
    ParsedPayload,
    PayloadError,
    fingerprint_of,
    parse,
    parse_alertmanager,
    parse_generic,
    parse_grafana,
    parse_time,
)
from alerts.parsers.base import parse_end_time

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


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


# --- Alertmanager ---------------------------------------------------------------------------------


def test_alertmanager_firing_single():
    parsed = parse_alertmanager(load("alertmanager_firing_single.json"))
    assert isinstance(parsed, ParsedPayload)
    assert parsed.receiver == "mitigate"
    assert parsed.group_key == '{}/{severity="critical"}:{alertname="HighErrorRate", service="checkout"}'
    assert parsed.group_labels == {"alertname": "HighErrorRate", "service": "checkout"}
    assert parsed.common_labels["severity"] == "Critical"
    assert parsed.common_annotations["runbook_url"] == "https://runbooks.example.com/checkout/high-error-rate"
    assert parsed.external_url == "http://alertmanager.example.com:9093"
    assert parsed.truncated_alerts == 0
    assert parsed.extra == {}
    [alert] = parsed.alerts
    assert alert.fingerprint == "3f1a2b9c8d7e6f50"
    assert alert.name == "HighErrorRate"
    assert alert.status == "firing"
    assert alert.severity == "critical"  # lowercased; the label itself is kept as sent
    assert alert.labels == {
        "alertname": "HighErrorRate",
        "instance": "checkout-7d9f8b6c4-xk2lp:8080",
        "job": "checkout",
        "service": "checkout",
        "severity": "Critical",
    }
    assert alert.annotations["summary"] == "checkout 5xx ratio above 5% for 5 minutes"
    assert alert.starts_at == utc(2024, 3, 5, 14, 2, 11, 482000)
    assert alert.starts_at.tzinfo is UTC
    assert alert.ends_at is None  # 0001-01-01T00:00:00Z while firing
    assert alert.generator_url.startswith("http://prometheus.example.com:9090/graph?g0.expr=")
    assert alert.extra == {}


def test_alertmanager_parsed_alert_is_frozen():
    [alert] = parse_alertmanager(load("alertmanager_firing_single.json")).alerts
    with pytest.raises(FrozenInstanceError):
        alert.status = "resolved"


def test_alertmanager_batch_mixing_firing_and_resolved():
    parsed = parse_alertmanager(load("alertmanager_batch_mixed.json"))
    assert [(a.labels["instance"], a.status) for a in parsed.alerts] == [
        ("web-1:9100", "firing"),
        ("web-2:9100", "resolved"),  # the alert's own status wins over the top-level "firing"
        ("web-3:9100", "firing"),
    ]
    assert [a.fingerprint for a in parsed.alerts] == [
        "a1b2c3d4e5f60001",
        "a1b2c3d4e5f60002",
        "a1b2c3d4e5f60003",
    ]
    firing, resolved, firing_with_end = parsed.alerts
    assert firing.ends_at is None
    assert resolved.starts_at == utc(2024, 3, 5, 13, 50)
    assert resolved.ends_at == utc(2024, 3, 5, 14, 1, 30)
    # A firing alert's endsAt is Alertmanager's resolve timeout, not an end.
    assert firing_with_end.ends_at is None
    assert {a.severity for a in parsed.alerts} == {"warning"}
    assert {a.name for a in parsed.alerts} == {"InstanceDown"}
    assert parsed.common_annotations == {}


def test_alertmanager_top_level_status_is_the_default_for_alerts_without_one():
    payload = alertmanager_payload(alertmanager_alert(), status="resolved")
    del payload["alerts"][0]["status"]
    payload["alerts"][0]["endsAt"] = "2024-03-05T14:10:00Z"
    [alert] = parse_alertmanager(payload).alerts
    assert alert.status == "resolved"
    assert alert.ends_at == utc(2024, 3, 5, 14, 10)


def test_alertmanager_missing_fingerprint_version_and_unknown_keys():
    data = load("alertmanager_missing_fingerprint.json")
    parsed = parse_alertmanager(data)
    [alert] = parsed.alerts
    labels = {"severity": "high", "alertname": "DiskAlmostFull", "mountpoint": "/var", "instance": "db-1"}
    assert alert.labels == labels
    assert alert.fingerprint == fingerprint_of(labels) == "719a726a438a43ea"
    assert alert.status == "firing"  # from the top-level status
    assert alert.ends_at is None  # no endsAt at all
    assert alert.severity == "high"
    assert alert.name == "DiskAlmostFull"
    assert parsed.truncated_alerts == 0
    assert parsed.external_url == "http://vmalert.example.com:8880"


def test_alertmanager_empty_fingerprint_is_computed():
    labels = {"alertname": "Test", "instance": "web-1"}
    [alert] = parse_alertmanager(alertmanager_payload(alertmanager_alert(fingerprint=""))).alerts
    assert alert.fingerprint == fingerprint_of(labels)


def test_alertmanager_nanosecond_timestamps_with_offsets():
    parsed = parse_alertmanager(load("alertmanager_nanoseconds.json"))
    [alert] = parsed.alerts
    assert alert.status == "resolved"
    # 16:02:11.123456789+02:00 -> 14:02:11.123456 UTC (truncated, not rounded)
    assert alert.starts_at == utc(2024, 3, 5, 14, 2, 11, 123456)
    # 09:30:00.999999999-05:30 -> 15:00:00.999999 UTC
    assert alert.ends_at == utc(2024, 3, 5, 15, 0, 0, 999999)
    assert alert.starts_at.utcoffset().total_seconds() == 0
    assert alert.ends_at.tzinfo is UTC
    assert alert.severity == "info"


def test_alertmanager_truncated_alerts():
    parsed = parse_alertmanager(load("alertmanager_truncated.json"))
    assert parsed.truncated_alerts == 37
    assert len(parsed.alerts) == 2
    assert [a.labels["pod"] for a in parsed.alerts] == ["ledger-0", "ledger-1"]


def test_alertmanager_empty_alerts_list_is_valid():
    parsed = parse_alertmanager(alertmanager_payload())
    assert parsed.alerts == []
    assert parsed.receiver == "mitigate"


def test_alertmanager_nulls_count_as_absent():
    payload = alertmanager_payload(
        alertmanager_alert(annotations=None, generatorURL=None, fingerprint=None, endsAt=None),
        groupLabels=None,
        commonLabels=None,
        externalURL=None,
        truncatedAlerts=None,
        version=None,
    )
    parsed = parse_alertmanager(payload)
    assert parsed.group_labels == {}
    assert parsed.external_url == ""
    assert parsed.truncated_alerts == 0
    [alert] = parsed.alerts
    assert alert.annotations == {}
    assert alert.generator_url == ""
    assert alert.fingerprint == fingerprint_of({"alertname": "Test", "instance": "web-1"})


def test_alertmanager_alert_without_alertname_or_severity():
    [alert] = parse_alertmanager(alertmanager_payload(alertmanager_alert(labels={"job": "x"}))).alerts
    assert alert.name == ""
    assert alert.severity == ""


def test_alertmanager_exactly_max_alerts_is_accepted():
    payload = alertmanager_payload(*[alertmanager_alert(fingerprint=f"{i:016x}") for i in range(MAX_ALERTS)])
    assert len(parse_alertmanager(payload).alerts) == MAX_ALERTS


# --- Grafana --------------------------------------------------------------------------------------


def test_grafana_with_values():
    parsed = parse_grafana(load("grafana_values.json"))
    assert parsed.receiver == "mitigate"
    assert parsed.group_labels == {"alertname": "High memory usage", "grafana_folder": "Infrastructure"}
    assert parsed.external_url == "https://grafana.example.com/"
    assert parsed.group_key.startswith("{}/{__grafana_autogenerated__=")
    assert parsed.extra == {
        "orgId": 1,
        "state": "alerting",
        "title": "[FIRING:1] High memory usage Infrastructure (app-2 high blue)",
        "message": (
            "**Firing**\n\nValue: B=94.23943737541908, C=1\nLabels:\n - alertname = High memory usage\n"
            " - instance = app-2\n"
        ),
    }
    [alert] = parsed.alerts
    assert alert.fingerprint == "c6eadffa33fcdf37"
    assert alert.name == "High memory usage"
    assert alert.status == "firing"
    assert alert.severity == "high"
    assert alert.labels["team"] == "blue"
    assert alert.annotations["summary"] == "High memory usage on app-2"
    assert alert.starts_at == utc(2024, 3, 5, 14, 51, 3, 157076)  # +01:00
    assert alert.ends_at is None
    assert alert.generator_url == "https://grafana.example.com/alerting/grafana/bdg7xk2lpq4w0e/view?orgId=1"
    assert alert.extra == {
        "values": {"B": 94.23943737541908, "C": 1},
        "valueString": (
            "[ var='B' labels={instance=app-2} value=94.23943737541908 ], "
            "[ var='C' labels={instance=app-2} value=1 ]"
        ),
        "dashboardURL": "https://grafana.example.com/d/node-exporter?orgId=1",
        "panelURL": "https://grafana.example.com/d/node-exporter?orgId=1&viewPanel=4",
        "silenceURL": (
            "https://grafana.example.com/alerting/silence/new?alertmanager=grafana"
            "&matcher=alertname%3DHigh+memory+usage&matcher=instance%3Dapp-2&orgId=1"
        ),
        "imageURL": "",
    }
    json.dumps(alert.extra)
    json.dumps(parsed.extra)


def test_grafana_9_without_values():
    parsed = parse_grafana(load("grafana9_no_values.json"))
    assert parsed.group_key == "{}:{}"
    assert parsed.group_labels == {}
    assert parsed.extra["state"] == "alerting"
    [alert] = parsed.alerts
    assert alert.name == "API latency"
    assert alert.severity == ""
    assert alert.starts_at == utc(2022, 9, 14, 10, 20)
    assert alert.extra["values"] == {}
    assert alert.extra["valueString"] == "[ metric='api' labels={service=api} value=912.5 ]"
    assert alert.extra["dashboardURL"] == ""
    assert alert.extra["panelURL"] == ""
    assert alert.extra["silenceURL"].startswith("http://grafana.local:3000/alerting/silence/new?")


def test_grafana_resolved():
    parsed = parse_grafana(load("grafana_resolved.json"))
    assert parsed.extra["orgId"] == 3
    assert parsed.extra["state"] == "ok"
    assert parsed.extra["title"] == "[RESOLVED] Queue backlog (emails WARNING)"
    [alert] = parsed.alerts
    assert alert.status == "resolved"
    assert alert.severity == "warning"
    assert alert.starts_at == utc(2024, 3, 5, 11, 0)
    assert alert.ends_at == utc(2024, 3, 5, 11, 42, 30, 500000)
    assert alert.extra["values"] == {"A": 8123}
    assert alert.fingerprint == "e41f0d7c2b9a6358"


def test_grafana_without_top_level_extras():
    payload = alertmanager_payload(alertmanager_alert(), version="1")
    parsed = parse_grafana(payload)
    assert parsed.extra == {"orgId": None, "state": "", "title": "", "message": ""}
    assert parsed.alerts[0].extra["values"] == {}


def test_grafana_shares_alertmanager_parsing():
    """The same Alertmanager-shaped alert parses to the same normalized fields in both parsers."""
    data = load("alertmanager_batch_mixed.json")
    am = parse_alertmanager(data)
    grafana = parse_grafana({**data, "version": "1"})
    for a, g in zip(am.alerts, grafana.alerts, strict=True):
        assert (a.fingerprint, a.status, a.labels, a.starts_at, a.ends_at) == (
            g.fingerprint,
            g.status,
            g.labels,
            g.starts_at,
            g.ends_at,
        )


# --- generic --------------------------------------------------------------------------------------


def test_generic_single():
    parsed = parse_generic(load("generic_single.json"), now=NOW)
    assert parsed.group_key == ""
    assert parsed.receiver == ""
    assert parsed.truncated_alerts == 0
    [alert] = parsed.alerts
    assert alert.fingerprint == "backup-db-1"
    assert alert.name == "Backup job failed on db-1"
    assert alert.status == "firing"
    assert alert.severity == "critical"
    assert alert.labels == {"service": "postgres", "host": "db-1"}
    assert alert.annotations == {
        "summary": "pg_dump exited 1",
        "runbook_url": "https://wiki.example.com/backups",
    }
    assert alert.starts_at == utc(2024, 3, 5, 2, 0, 5)
    assert alert.ends_at is None
    assert alert.generator_url == "https://cron.example.com/jobs/backup-db-1"
    assert alert.extra == {}


def test_generic_batch():
    parsed = parse_generic(load("generic_batch.json"), now=NOW)
    cert, health = parsed.alerts
    assert cert.name == "Certificate expires in 7 days"
    assert cert.status == "firing"
    assert cert.severity == "warning"
    assert cert.starts_at == utc(2024, 3, 5, 5, 0)
    assert cert.ends_at is None
    assert cert.fingerprint == "c836aae9dcb334db"
    assert health.name == "Health check failing"
    assert health.status == "resolved"
    assert health.severity == "high"  # from the severity label
    assert health.annotations == {}
    assert health.starts_at == utc(2024, 3, 5, 5, 10)
    assert health.ends_at == utc(2024, 3, 5, 5, 14, 27, 250000)


def test_generic_minimal():
    [alert] = parse_generic(load("generic_minimal.json"), now=NOW).alerts
    assert alert.name == "Nightly import did not run"
    assert alert.status == "firing"
    assert alert.severity == ""
    assert alert.labels == {}
    assert alert.annotations == {}
    assert alert.starts_at == NOW
    assert alert.ends_at is None
    assert alert.generator_url == ""
    assert alert.fingerprint == "2e9d69cb22b79672"


def test_generic_default_now_is_the_current_time():
    before = datetime.now(UTC)
    [alert] = parse_generic({"title": "x"}).alerts
    assert before <= alert.starts_at <= datetime.now(UTC)
    assert alert.starts_at.tzinfo is UTC


def test_generic_resolved_without_ends_at_ends_now():
    [alert] = parse_generic({"title": "x", "status": "resolved"}, now=NOW).alerts
    assert alert.ends_at == NOW


def test_generic_firing_ignores_ends_at():
    [alert] = parse_generic({"title": "x", "ends_at": "2024-03-05T10:00:00Z"}, now=NOW).alerts
    assert alert.ends_at is None


def test_generic_empty_batch_is_valid():
    assert parse_generic({"alerts": []}).alerts == []


def test_generic_fingerprint_depends_on_title_and_labels_not_on_time():
    first = parse_generic(
        {"title": "Disk full", "labels": {"host": "a"}, "starts_at": "2024-03-05T10:00:00Z"}
    )
    again = parse_generic({"labels": {"host": "a"}, "title": "Disk full"}, now=NOW)
    other_title = parse_generic({"title": "Disk nearly full", "labels": {"host": "a"}})
    other_host = parse_generic({"title": "Disk full", "labels": {"host": "b"}})
    fingerprints = [p.alerts[0].fingerprint for p in (first, again, other_title, other_host)]
    assert fingerprints[0] == fingerprints[1]
    assert len(set(fingerprints)) == 3


# --- fingerprints, times, dispatch ----------------------------------------------------------------


def test_fingerprint_is_stable_under_label_order():
    one = {"alertname": "HighLoad", "instance": "web-1", "severity": "warning"}
    two = {"severity": "warning", "instance": "web-1", "alertname": "HighLoad"}
    assert list(one) != list(two)
    assert fingerprint_of(one) == fingerprint_of(two)
    assert len(fingerprint_of(one)) == 16
    assert all(c in "0123456789abcdef" for c in fingerprint_of(one))


def test_fingerprint_differs_for_different_labels():
    base = {"alertname": "HighLoad", "instance": "web-1"}
    assert fingerprint_of(base) != fingerprint_of({**base, "instance": "web-2"})
    assert fingerprint_of(base) != fingerprint_of({**base, "severity": "warning"})
    assert fingerprint_of({}) != fingerprint_of({"": ""})
    # No ambiguity from joining names and values.
    assert fingerprint_of({"a": "b=c"}) != fingerprint_of({"a=b": "c"})


def test_computed_fingerprint_is_stable_under_label_order_in_payloads():
    labels = {"alertname": "HighLoad", "instance": "web-1", "severity": "warning"}
    reordered = dict(reversed(list(labels.items())))
    one = parse_alertmanager(alertmanager_payload(alertmanager_alert(labels=labels, fingerprint=None)))
    two = parse_alertmanager(alertmanager_payload(alertmanager_alert(labels=reordered, fingerprint=None)))
    assert one.alerts[0].fingerprint == two.alerts[0].fingerprint == fingerprint_of(labels)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05T14:02:11Z", utc(2024, 3, 5, 14, 2, 11)),
        ("2024-03-05T14:02:11z", utc(2024, 3, 5, 14, 2, 11)),
        ("2024-03-05 14:02:11Z", utc(2024, 3, 5, 14, 2, 11)),
        ("2024-03-05T14:02:11.5Z", utc(2024, 3, 5, 14, 2, 11, 500000)),
        ("2024-03-05T14:02:11.123456789Z", utc(2024, 3, 5, 14, 2, 11, 123456)),
        ("2024-03-05T16:02:11+02:00", utc(2024, 3, 5, 14, 2, 11)),
        ("2024-03-05T00:30:00-05:00", utc(2024, 3, 5, 5, 30)),
        ("2024-03-05T14:02:11-00:00", utc(2024, 3, 5, 14, 2, 11)),
        ("2024-12-31T23:59:59.999999999-01:00", utc(2025, 1, 1, 0, 59, 59, 999999)),
    ],
)
def test_parse_time(value, expected):
    parsed = parse_time(value, "t")
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_parse_end_time_zero_and_empty_are_none():
    assert parse_end_time("0001-01-01T00:00:00Z", "endsAt") is None
    assert parse_end_time("", "endsAt") is None
    assert parse_end_time(None, "endsAt") is None
    assert parse_end_time("2024-03-05T14:02:11Z", "endsAt") == utc(2024, 3, 5, 14, 2, 11)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "t is not an RFC 3339 time: 'yesterday'"),
        ("2024-03-05", "t is not an RFC 3339 time: '2024-03-05'"),
        ("2024-03-05T14:02:11", "t is not an RFC 3339 time: '2024-03-05T14:02:11'"),  # no offset
        ("2024-03-05T14:02:11+0200", "t is not an RFC 3339 time: '2024-03-05T14:02:11+0200'"),
        ("2024-02-30T14:02:11Z", "t is not an RFC 3339 time: '2024-02-30T14:02:11Z' (day is out of range"),
        ("2024-03-05T25:00:00Z", "t is not an RFC 3339 time: '2024-03-05T25:00:00Z' (hour must be in"),
        ("2024-03-05T14:02:11+24:00", "t is not an RFC 3339 time: '2024-03-05T14:02:11+24:00' (bad offset)"),
        ("0001-01-01T00:00:00+02:00", "t is out of range: '0001-01-01T00:00:00+02:00'"),
        (1709647331, "t must be an RFC 3339 time string, not number"),
        (None, "t must be an RFC 3339 time string, not null"),
    ],
)
def test_parse_time_errors(value, message):
    with pytest.raises(PayloadError) as error:
        parse_time(value, "t")
    assert str(error.value).startswith(message)


def test_parse_dispatches_by_kind():
    assert set(PARSERS) == {"alertmanager", "grafana", "generic"}
    assert PARSERS["alertmanager"] is parse_alertmanager
    assert parse("alertmanager", load("alertmanager_firing_single.json")).alerts[0].name == "HighErrorRate"
    assert parse("grafana", load("grafana_values.json")).extra["orgId"] == 1
    assert parse("generic", load("generic_minimal.json")).alerts[0].name == "Nightly import did not run"


def test_parse_unknown_kind_is_a_programming_error_not_a_payload_error():
    with pytest.raises(ValueError, match="unknown alert payload kind 'nagios'") as error:
        parse("nagios", {})
    assert not isinstance(error.value, PayloadError)


def test_payload_error_is_a_value_error():
    assert issubclass(PayloadError, ValueError)


# --- errors ---------------------------------------------------------------------------------------


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
