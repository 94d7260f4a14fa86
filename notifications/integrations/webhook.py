"""Generic webhook: a signed JSON POST to `config["url"]`; the channel's secret is the signing key.

Body (UTF-8 JSON)::

    {
      "event": "incident_opened",            # notifications.choices.EventKind
      "event_label": "Incident opened",
      "subject": "[P1] INC-2026-0042 opened: Checkout errors",
      "text": "...",                         # the rendered template, plain text
      "url": "https://mitigate.example.com/incidents/42/",
      "facts": [{"name": "Status", "value": "Investigating"}, ...],
      "incident": {"id": 42, "reference": "INC-2026-0042", "severity": "P1",
                   "bridge_url": ""},        # null for events without an incident
      "bundled": 0,                          # events folded into this one
      "data": {...}                          # the event's own fields
    }

Headers::

    Content-Type: application/json
    X-Mitigate-Timestamp: 1764961200                       # unix seconds when it was sent
    X-Mitigate-Signature: v1=<64 hex digits>

Signature scheme (v1): HMAC-SHA256 with the channel's secret as the key over the bytes
``<timestamp> + "." + <raw request body>``, hex-encoded, prefixed ``v1=``. The timestamp is inside
what is signed, so an old request cannot be replayed with a new timestamp.

How a receiver verifies it:

1. Read the raw body bytes before parsing them (re-serialised JSON will not match).
2. Reject the request when X-Mitigate-Timestamp is missing, not an integer, or more than 5 minutes
   (300 s) away from the receiver's clock: that bounds replays.
3. Compute ``hmac_sha256(key=secret, msg=timestamp + "." + body)`` in hex and compare it with the
   value after ``v1=`` in constant time. The header may carry several comma-separated signatures
   (``v1=...,v1=...``) while the secret is being rotated: accept when any matches.
4. Answer 2xx only for a verified request.

In Python::

    import hashlib, hmac, time

    def verified(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
        timestamp = headers.get("X-Mitigate-Timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
            return False
        digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return any(
            hmac.compare_digest("v1=" + digest, candidate.strip())
            for candidate in headers.get("X-Mitigate-Signature", "").split(",")
        )

Responses: 2xx is delivered; 429 (honouring Retry-After), 408 and 5xx are retried with backoff, as
are network errors; any other 4xx is permanent and counts against the channel. Redirects are not
followed. Timeout 10 s."""

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.serializers.json import DjangoJSONEncoder

from notifications.integrations.http import response_outcome
from notifications.transport import Message, PermanentSendError, SendResult, Target, TransientSendError

TIMEOUT = 10
TIMESTAMP_HEADER = "X-Mitigate-Timestamp"
SIGNATURE_HEADER = "X-Mitigate-Signature"


def render(message: Message) -> dict[str, Any]:
    """The JSON body (before serialising)."""
    incident = None
    if message.incident_id is not None or message.incident_reference:
        incident = {
            "id": message.incident_id,
            "reference": message.incident_reference,
            "severity": message.severity,
            "bridge_url": message.bridge_url,
        }
    return {
        "event": message.event_kind,
        "event_label": message.event_label,
        "subject": message.subject,
        "text": message.text,
        "url": message.url,
        "facts": [{"name": name, "value": value} for name, value in message.facts],
        "incident": incident,
        "bundled": message.bundled,
        "data": message.data,
    }


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Mitigate-Signature value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def send(target: Target, message: Message) -> SendResult:
    # A target with {"body": "data"} gets the event's own JSON (status page subscribers get
    # Statuspage's webhook shape), signed the same way.
    payload = message.data if target.config.get("body") == "data" else render(message)
    url = str(target.config.get("url", "")).strip()
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise PermanentSendError("Webhook: the channel has no valid http(s) URL.", payload=payload)
    if not target.secret:
        raise PermanentSendError("Webhook: the channel has no signing secret.", payload=payload)
    body = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Mitigate-Webhook/1",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(target.secret, timestamp, body),
    }
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:  # its text names the URL, which may carry a token
        raise TransientSendError(f"Webhook: unreachable ({type(exc).__name__}).", payload=payload) from None
    return response_outcome(response, name="Webhook", id_header="X-Request-Id", payload=payload)
