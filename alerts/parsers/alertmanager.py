"""Prometheus Alertmanager webhook payloads, version "4".

https://prometheus.io/docs/alerting/latest/configuration/#webhook_config: `receiver`, `status`,
`alerts[]` (`status`, `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`, `fingerprint`),
`groupKey`, `groupLabels`, `commonLabels`, `commonAnnotations`, `externalURL`, `truncatedAlerts`.
One notification can mix firing and resolved alerts: each alert's own `status` wins over the top-level
one. `endsAt` is `0001-01-01T00:00:00Z` while an alert fires. Some Alertmanager-compatible senders omit
`fingerprint`; it is then computed from the sorted label set.

`parse_alertmanager_shaped` is the shared part that Grafana's payload (a superset) reuses.
"""

import json
from collections.abc import Callable
from typing import Any

from alerts.parsers.base import (
    ParsedAlert,
    ParsedPayload,
    PayloadError,
    alert_list,
    child,
    fingerprint_of,
    json_type,
    optional_int,
    optional_str,
    parse_end_time,
    parse_status,
    parse_time,
    require_object,
    severity_of,
    string_dict,
)

ALERTMANAGER_VERSIONS = ("4",)

# Reads the format-specific fields of one alert object: (alert, its path) -> ParsedAlert.extra.
AlertExtra = Callable[[dict, str], dict]


def check_version(data: dict, accepted: tuple[str, ...], format_name: str) -> None:
    """A missing `version` is accepted; any other value than the accepted ones is not."""
    version = data.get("version")
    if version is None or version in accepted:
        return
    shown = repr(version) if isinstance(version, str) else f"{json.dumps(version)} (a {json_type(version)})"
    expected = " or ".join(repr(v) for v in accepted)
    raise PayloadError(f"unsupported {format_name} webhook version {shown}; expected {expected}")


def parse_alert(
    raw: Any, where: str, default_status: str | None, extra: AlertExtra | None = None
) -> ParsedAlert:
    alert = require_object(raw, where)
    status_value = alert.get("status")
    if status_value is None:
        if default_status is None:
            raise PayloadError(f"{child(where, 'status')} is required (and the payload has no status)")
        status_value = default_status
    # Paths for messages written out: these keys are identifiers, so child() would give the same.
    status = parse_status(status_value, f"{where}.status")

    if alert.get("labels") is None:
        raise PayloadError(f"{child(where, 'labels')} is required")
    labels = string_dict(alert["labels"], f"{where}.labels")
    annotations = string_dict(alert.get("annotations"), f"{where}.annotations")

    if alert.get("startsAt") is None:
        raise PayloadError(f"{child(where, 'startsAt')} is required")
    starts_at = parse_time(alert["startsAt"], f"{where}.startsAt")
    ends_at = parse_end_time(alert.get("endsAt"), f"{where}.endsAt")
    if status == "firing":
        ends_at = None  # a firing alert's endsAt is Alertmanager's resolve timeout, not an end

    fingerprint = optional_str(alert, "fingerprint", where).strip() or fingerprint_of(labels)
    return ParsedAlert(
        fingerprint=fingerprint,
        name=labels.get("alertname", ""),
        status=status,
        severity=severity_of(labels),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        generator_url=optional_str(alert, "generatorURL", where),
        extra=extra(alert, where) if extra else {},
    )


def parse_alertmanager_shaped(
    data: Any, *, versions: tuple[str, ...], format_name: str, extra: AlertExtra | None = None
) -> ParsedPayload:
    """Parse an Alertmanager-shaped notification. `extra` reads each alert's format-specific fields."""
    payload = require_object(data, "payload")
    check_version(payload, versions, format_name)
    raw_alerts = alert_list(payload)
    default_status = None
    if payload.get("status") is not None:
        default_status = parse_status(payload["status"], "status")
    return ParsedPayload(
        alerts=[
            parse_alert(raw, child("alerts", index), default_status, extra)
            for index, raw in enumerate(raw_alerts)
        ],
        group_key=optional_str(payload, "groupKey", ""),
        group_labels=string_dict(payload.get("groupLabels"), "groupLabels"),
        common_labels=string_dict(payload.get("commonLabels"), "commonLabels"),
        common_annotations=string_dict(payload.get("commonAnnotations"), "commonAnnotations"),
        external_url=optional_str(payload, "externalURL", ""),
        receiver=optional_str(payload, "receiver", ""),
        truncated_alerts=optional_int(payload, "truncatedAlerts", "", minimum=0),
    )


def parse_alertmanager(data: Any) -> ParsedPayload:
    return parse_alertmanager_shaped(data, versions=ALERTMANAGER_VERSIONS, format_name="Alertmanager")
