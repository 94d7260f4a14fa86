"""Alert payload parsers, one module per format. `parse(kind, data)` turns the decoded JSON body sent
by an alert source of that kind into a `ParsedPayload`, or raises `PayloadError` naming the problem."""

from collections.abc import Callable
from typing import Any

from alerts.parsers.alertmanager import parse_alertmanager
from alerts.parsers.base import (
    MAX_ALERTS,
    ParsedAlert,
    ParsedPayload,
    PayloadError,
    fingerprint_of,
    parse_time,
)
from alerts.parsers.generic import parse_generic
from alerts.parsers.grafana import parse_grafana

__all__ = [
    "MAX_ALERTS",
    "PARSERS",
    "ParsedAlert",
    "ParsedPayload",
    "PayloadError",
    "fingerprint_of",
    "parse",
    "parse_alertmanager",
    "parse_generic",
    "parse_grafana",
    "parse_time",
]

PARSERS: dict[str, Callable[[Any], ParsedPayload]] = {
    "alertmanager": parse_alertmanager,
    "grafana": parse_grafana,
    "generic": parse_generic,
}


def parse(kind: str, data: Any) -> ParsedPayload:
    """Parse `data` as the payload format `kind` ("alertmanager", "grafana" or "generic"). An unknown
    kind is a programming error (ValueError, not PayloadError): the kind comes from the source."""
    try:
        parser = PARSERS[kind]
    except KeyError:
        expected = ", ".join(PARSERS)
        raise ValueError(f"unknown alert payload kind {kind!r}; expected one of {expected}") from None
    return parser(data)
