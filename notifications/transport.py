"""What every integration module (notifications/integrations/<kind>.py) takes and returns.

An integration turns a rendered `Message` into its provider's form and sends it. It raises
`TransientSendError` for what a later attempt may fix (network, 5xx, 429 with its Retry-After) and
`PermanentSendError` for what it will not (4xx, a bad address, a revoked token): the ledger retries
the first with backoff and marks the second dead, counting it against the channel."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Message:
    """One notification, rendered from its template, independent of the channel kind."""

    event_kind: str  # notifications.choices.EventKind value
    event_label: str  # "Incident opened"
    subject: str  # One line: "[P1] INC-0042 opened: Checkout errors"
    text: str  # The rendered template: plain text, a few short paragraphs.
    url: str  # Absolute link for the reader to act on (incident or approval page); may be "".
    facts: tuple[tuple[str, str], ...] = ()  # ("Status", "Investigating"), ("Priority", "P1 - Critical")
    severity: str = ""  # Priority code ("P1"), or "" for events without an incident.
    incident_id: int | None = None
    incident_reference: str = ""
    bundled: int = 0  # Events folded into this message ("+7 more").
    bridge_url: str = ""  # The incident's war room, when it has one.
    data: dict[str, Any] = field(default_factory=dict)  # JSON-ready event body for webhooks.
    url_label: str = "Open in Mitigate"  # What the link says ("View the status page" for customers).
    headers: tuple[tuple[str, str], ...] = ()  # Extra email headers (List-Unsubscribe).


@dataclass(frozen=True)
class Target:
    """Where the message goes. `config` holds the channel's non-secret settings, `secret` its
    decrypted secret (webhook URL, token, "sid:token"), `address` the recipient (email address,
    phone number) for contact methods and email/SMS channels."""

    kind: str  # ChannelKind value (contact methods map to EMAIL / SMS)
    config: dict[str, Any]
    secret: str = ""
    address: str = ""
    thread: str = ""  # Slack bot: the incident's thread ts, when one exists.
    # Of several addresses (an SMS channel's phones), those an earlier attempt already reached: a
    # retry sends to the others only.
    reached: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendResult:
    provider_id: str = ""  # Provider's message id (Slack ts, Twilio SID, Message-ID).
    thread: str = ""  # Slack bot: the ts that starts the incident's thread (first message).
    payload: Any = None  # What was sent, with secrets left out, for the ledger.


class SendError(Exception):
    def __init__(self, message: str, *, payload: Any = None) -> None:
        super().__init__(message)
        self.payload = payload


class TransientSendError(SendError):
    def __init__(self, message: str, *, retry_after: float | None = None, payload: Any = None) -> None:
        super().__init__(message, payload=payload)
        self.retry_after = retry_after  # Seconds the provider asked for (429 Retry-After).


class PermanentSendError(SendError):
    pass


def secret_scrub(text: str, secret: str) -> str:
    """`text` without the channel's secret, whole or in parts: provider answers and library errors
    quote the URL or credentials they were given, and a Slack, Teams or apprise URL is the secret."""
    secrets = [secret] if secret else []
    if "://" in secret:
        parts = urlsplit(secret)
        secrets += [part for part in (parts.path, parts.query, parts.username, parts.password) if part]
    elif ":" in secret:
        secrets += [part for part in secret.split(":") if len(part) >= 8]  # SID:token
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text
