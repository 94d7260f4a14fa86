"""Checks on a webhook's raw body before a format's parser sees it: its HMAC signature (Grafana's
X-Grafana-Alerting-Signature) and its decoding into JSON the database can store."""

import hashlib
import hmac
import json
from typing import Any

from alerts.parsers.base import PayloadError

SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"


def signature_of(*, secret: str, body: bytes) -> str:
    """The signature header's value: the hex HMAC-SHA256 of the raw body under the source's secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_valid(*, secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(signature_of(secret=secret, body=body), signature.strip().lower())


def body_decode(body: bytes) -> Any:
    """The JSON document, refusing what the database cannot store (NaN, Infinity, NUL characters)."""
    if not body.strip():
        raise PayloadError("the body is empty; expected a JSON object")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise PayloadError("the body is not valid JSON: nested too deeply") from None
    except ValueError as error:
        raise PayloadError(f"the body is not valid JSON: {error}") from None
    # PostgreSQL's jsonb has no NUL character; the walk runs only when an escape for one is present.
    if b"\\u0000" in body and _contains_nul(data):
        raise PayloadError("the body contains a NUL character (\\u0000), which cannot be stored")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False
