"""The Alertmanager payload parser on fixtures written from its specification. Pure unit tests: no
database."""

from dataclasses import FrozenInstanceError
from datetime import UTC

import pytest

from alerts.parsers import MAX_ALERTS, ParsedPayload, fingerprint_of, parse_alertmanager
from tests.alerts.conftest import load
from tests.alerts.support import alertmanager_alert, alertmanager_payload, utc


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
