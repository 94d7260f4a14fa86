"""What the payload parsers share: fingerprints, times, and dispatch by kind. Pure unit tests: no
database."""

from datetime import UTC

import pytest

from alerts.parsers import PARSERS, PayloadError, fingerprint_of, parse, parse_alertmanager, parse_time
from alerts.parsers.base import parse_end_time
from tests.alerts.conftest import load
from tests.alerts.support import alertmanager_alert, alertmanager_payload, utc


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
