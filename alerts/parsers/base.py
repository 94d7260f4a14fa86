"""What every alert payload parser returns, the error they raise, and the validation helpers they share.

Parsers take the already-decoded JSON (`json.loads` result) and either return a `ParsedPayload` or raise
`PayloadError` whose message names the offending path (`alerts[2].labels.port must be a string, not
number`), so the webhook view can answer 400 with it. Unknown keys are ignored everywhere; `null` counts
as absent for optional keys.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

MAX_ALERTS = 1000

Status = Literal["firing", "resolved"]
STATUSES = ("firing", "resolved")


class PayloadError(ValueError):
    """The payload does not have the expected shape; the message names the problem and where it is."""


@dataclass(frozen=True, slots=True)
class ParsedAlert:
    fingerprint: str
    name: str
    status: Status
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class ParsedPayload:
    alerts: list[ParsedAlert]
    group_key: str = ""
    group_labels: dict = field(default_factory=dict)
    common_labels: dict = field(default_factory=dict)
    common_annotations: dict = field(default_factory=dict)
    external_url: str = ""
    receiver: str = ""
    truncated_alerts: int = 0
    # Format-specific top-level fields (Grafana: orgId, state, title, message); JSON-serializable.
    extra: dict = field(default_factory=dict)


# --- paths and types ------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def child(where: str, key: str | int) -> str:
    """The path of `key` inside `where`: `alerts[0]`, `alerts[0].labels`, `labels["a.b"]`."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    if not _IDENTIFIER.match(key):
        return f"{where}[{json.dumps(key)}]"
    return f"{where}.{key}" if where else key


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def require_object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be a JSON object, not {json_type(value)}")
    return value


def optional_str(data: dict, key: str, where: str, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise PayloadError(f"{child(where, key)} must be a string, not {json_type(value)}")
    return value


def required_str(data: dict, key: str, where: str) -> str:
    if data.get(key) is None:
        raise PayloadError(f"{child(where, key)} is required")
    value = optional_str(data, key, where)
    if not value.strip():
        raise PayloadError(f"{child(where, key)} must not be empty")
    return value


def optional_int(
    data: dict, key: str, where: str, default: int | None = 0, minimum: int | None = None
) -> int | None:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{child(where, key)} must be an integer, not {json_type(value)}")
    if minimum is not None and value < minimum:
        raise PayloadError(f"{child(where, key)} must be at least {minimum}, not {value}")
    return value


def string_dict(value: Any, where: str) -> dict[str, str]:
    """A JSON object whose values are all strings (labels, annotations); `null` or absent is `{}`.
    Non-string values are an error naming the key, never silently coerced."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object of strings, not {json_type(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(
                f"{where} must be an object of strings: {child(where, key)} is {json_type(item)}"
            )
    return dict(value)


def alert_list(data: dict, where: str = "") -> list:
    """The `alerts` array of a payload: required, a list, at most MAX_ALERTS items (may be empty)."""
    path = child(where, "alerts")
    if "alerts" not in data or data["alerts"] is None:
        raise PayloadError(f"{path} is required")
    alerts = data["alerts"]
    if not isinstance(alerts, list):
        raise PayloadError(f"{path} must be a list, not {json_type(alerts)}")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(f"{path} has {len(alerts)} alerts; at most {MAX_ALERTS} are accepted per payload")
    return alerts


def parse_status(value: Any, where: str) -> Status:
    if value not in STATUSES:
        shown = repr(value) if isinstance(value, str) else json_type(value)
        raise PayloadError(f"{where} must be 'firing' or 'resolved', not {shown}")
    return value


# --- times ----------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<off_hour>\d{2}):(?P<off_minute>\d{2}))\Z"
)


def _parse_rfc3339(value: Any, where: str) -> tuple[datetime, bool]:
    """(the time in UTC, whether it is Go's zero time `0001-01-01T00:00:00Z`)."""
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be an RFC 3339 time string, not {json_type(value)}")
    match = _RFC3339.match(value.strip())
    if not match:
        raise PayloadError(f"{where} is not an RFC 3339 time: {value!r}")
    # Positional groups, not a dict by name: this runs twice per alert (a fifth of a batch's parse).
    year, month, day, hour, minute, second, fraction, offset, sign, off_hour, off_minute = match.groups()
    # Nanoseconds (Go, Prometheus) are truncated to the microseconds Python keeps.
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    if offset in "Zz":
        tz = UTC
    else:
        hours, minutes = int(off_hour), int(off_minute)
        if hours > 23 or minutes > 59:
            raise PayloadError(f"{where} is not an RFC 3339 time: {value!r} (bad offset)")
        delta = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-delta if sign == "-" else delta)
    try:
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), microsecond, tzinfo=tz
        )
    except ValueError as error:
        raise PayloadError(f"{where} is not an RFC 3339 time: {value!r} ({error})") from None
    is_zero = (local.year, local.month, local.day) == (1, 1, 1) and local.utcoffset() == timedelta(0)
    if tz is UTC:
        return local, is_zero  # already UTC: no conversion, which cannot overflow
    try:
        return local.astimezone(UTC), is_zero
    except OverflowError:
        raise PayloadError(f"{where} is out of range: {value!r}") from None


def parse_time(value: Any, where: str) -> datetime:
    """An RFC 3339 time (`2024-03-05T14:02:11.123456789+02:00`, `...Z`) as an aware UTC datetime.
    Fractions beyond microseconds are truncated; `where` names the field in error messages."""
    return _parse_rfc3339(value, where)[0]


def parse_end_time(value: Any, where: str) -> datetime | None:
    """Like `parse_time`, but absent, empty and Go's zero time (Alertmanager's "not ended") are None."""
    if value is None or value == "":
        return None
    parsed, is_zero = _parse_rfc3339(value, where)
    return None if is_zero else parsed


# --- identity -------------------------------------------------------------------------------------


def fingerprint_of(labels: dict[str, str]) -> str:
    """A stable fingerprint of a label set for senders that omit one: the first 16 hex characters of
    the SHA-256 of the labels sorted by name, so the order they arrived in does not matter."""
    canonical = json.dumps(sorted(labels.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def severity_of(labels: dict[str, str]) -> str:
    return labels.get("severity", "").strip().lower()
