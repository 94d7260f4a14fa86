"""Mitigate's generic JSON alert format, for anything that is not Alertmanager or Grafana (cron jobs,
scripts, uptime checkers, other monitoring tools).

POST either one alert object::

    {
      "title": "Backup job failed on db-1",
      "severity": "critical",
      "status": "firing",
      "labels": {"service": "postgres", "host": "db-1"},
      "annotations": {"summary": "pg_dump exited 1", "runbook_url": "https://wiki.example.com/backups"},
      "fingerprint": "backup-db-1",
      "starts_at": "2024-03-05T14:02:11Z"
    }

or a batch, ``{"alerts": [{...}, {...}]}`` (at most 1000 alerts; an empty list is accepted and does
nothing).

Fields of an alert:

``title`` (string, required)
    What is wrong, shown as the alert's name. Must not be empty.
``severity`` (string, optional)
    For example ``critical``, ``high``, ``error``, ``warning``, ``info``; matched case-insensitively
    (stored lowercased). When absent, the ``severity`` label is used, if any.
``status`` (``"firing"`` or ``"resolved"``, optional, default ``"firing"``)
    Send the same alert (same fingerprint) again with ``"resolved"`` to resolve it.
``labels`` (object of strings, optional)
    Identify the alert and drive rule matching (``service``, ``host``, ``instance``, ...). Values must
    be strings: ``{"port": 5432}`` is rejected, send ``{"port": "5432"}``.
``annotations`` (object of strings, optional)
    Free text: ``summary``, ``description``, ``runbook_url``, ...
``fingerprint`` (string, optional)
    Identifies "the same alert" across notifications: a firing alert sent again with the same
    fingerprint updates the existing alert instead of creating a new one. When absent it is computed
    from the labels and the title, so keep those stable (put changing values such as measurements in
    annotations).
``starts_at`` (RFC 3339 time, optional, default: when the alert is received)
    For example ``2024-03-05T14:02:11Z`` or ``2024-03-05T16:02:11.123456789+02:00``.
``ends_at`` (RFC 3339 time, optional)
    When a resolved alert ended; defaults to when the resolution is received. Ignored while firing.
``generator_url`` (string, optional)
    A link back to the thing that raised the alert.

Unknown keys are ignored; ``null`` counts as absent. Anything else that does not fit (a title that is
not a string, a label value that is a number, a time that is not RFC 3339) is rejected with a 400
response naming the field, e.g. ``alerts[1].labels must be an object of strings: alerts[1].labels.port
is number``.
"""

from datetime import UTC, datetime
from typing import Any

from alerts.parsers.base import (
    ParsedAlert,
    ParsedPayload,
    PayloadError,
    alert_list,
    child,
    fingerprint_of,
    optional_str,
    parse_end_time,
    parse_status,
    parse_time,
    require_object,
    required_str,
    string_dict,
)

# The title joins the labels under this name when computing a missing fingerprint ("__" names are
# reserved in Prometheus, so it cannot clash with a real label).
TITLE_KEY = "__title__"


def parse_generic_alert(raw: Any, where: str, now: datetime) -> ParsedAlert:
    alert = require_object(raw, where or "payload")
    title = required_str(alert, "title", where)
    status_value = alert.get("status")
    if status_value is None or status_value == "":
        status_value = "firing"
    status = parse_status(status_value, child(where, "status"))
    labels = string_dict(alert.get("labels"), child(where, "labels"))
    annotations = string_dict(alert.get("annotations"), child(where, "annotations"))
    severity = optional_str(alert, "severity", where) or labels.get("severity", "")

    starts_at = now
    if alert.get("starts_at") not in (None, ""):
        starts_at = parse_time(alert["starts_at"], child(where, "starts_at"))
    ends_at = None
    if status == "resolved":
        ends_at = parse_end_time(alert.get("ends_at"), child(where, "ends_at")) or now

    fingerprint = optional_str(alert, "fingerprint", where).strip()
    if not fingerprint:
        fingerprint = fingerprint_of({**labels, TITLE_KEY: title})
    return ParsedAlert(
        fingerprint=fingerprint,
        name=title,
        status=status,
        severity=severity.strip().lower(),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        generator_url=optional_str(alert, "generator_url", where),
        extra={},
    )


def parse_generic(data: Any, *, now: datetime | None = None) -> ParsedPayload:
    """Parse one generic alert or a `{"alerts": [...]}` batch. `now` (default: the current time) fills
    in a missing `starts_at`, and `ends_at` of a resolved alert."""
    payload = require_object(data, "payload")
    now = now or datetime.now(UTC)
    if "alerts" in payload:
        raw_alerts = alert_list(payload)
        alerts = [parse_generic_alert(raw, child("alerts", i), now) for i, raw in enumerate(raw_alerts)]
    elif "title" in payload:
        alerts = [parse_generic_alert(payload, "", now)]
    else:
        raise PayloadError('title is required (or send a batch as {"alerts": [...]})')
    return ParsedPayload(alerts=alerts)
