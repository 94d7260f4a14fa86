"""Grafana unified alerting webhook payloads, version "1".

https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
The payload is Alertmanager's (parsed by the shared Alertmanager code) plus, per alert, `values`
(refId -> number), `valueString`, `dashboardURL`, `panelURL`, `silenceURL` and `imageURL`, kept in
`ParsedAlert.extra`; and top-level `orgId`, `state`, `title` and `message`, kept in `ParsedPayload.extra`.
Grafana 9 payloads carry `valueString` but no `values`; they parse, with `values` as `{}`.
"""

import math
from typing import Any

from alerts.parsers.alertmanager import parse_alertmanager_shaped
from alerts.parsers.base import (
    ParsedPayload,
    PayloadError,
    child,
    json_type,
    optional_int,
    optional_str,
    require_object,
)

GRAFANA_VERSIONS = ("1",)
URL_FIELDS = ("dashboardURL", "panelURL", "silenceURL", "imageURL")


def _values(value: Any, where: str) -> dict[str, float | int | None]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object of numbers, not {json_type(value)}")
    for key, item in value.items():
        if item is not None and (isinstance(item, bool) or not isinstance(item, int | float)):
            problem = f"{child(where, key)} is {json_type(item)}"
            raise PayloadError(f"{where} must be an object of numbers: {problem}")
        if isinstance(item, float) and not math.isfinite(item):
            # Python's json accepts NaN/Infinity; they would not survive storage as JSON.
            raise PayloadError(f"{where} must be an object of numbers: {child(where, key)} is {item}")
    return dict(value)


def grafana_alert_extra(alert: dict, where: str) -> dict:
    extra = {
        "values": _values(alert.get("values"), child(where, "values")),
        "valueString": optional_str(alert, "valueString", where),
    }
    for name in URL_FIELDS:
        extra[name] = optional_str(alert, name, where)
    return extra


def parse_grafana(data: Any) -> ParsedPayload:
    parsed = parse_alertmanager_shaped(
        data, versions=GRAFANA_VERSIONS, format_name="Grafana", extra=grafana_alert_extra
    )
    payload = require_object(data, "payload")
    parsed.extra = {
        "orgId": optional_int(payload, "orgId", "", default=None),
        "state": optional_str(payload, "state", ""),
        "title": optional_str(payload, "title", ""),
        "message": optional_str(payload, "message", ""),
    }
    return parsed
