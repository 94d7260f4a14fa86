"""Slack, through slack_sdk: an incoming webhook (SLACK_WEBHOOK, the URL is the channel's secret) or
the Web API with a bot token (SLACK_BOT: `chat.postMessage` to `config["channel"]`, the incident's
updates as replies in the thread its first message started), plus the "#inc-<reference>" incident
channels a bot can create, post to and archive.

Messages are Block Kit: a header, the text as mrkdwn, the facts as fields, a context line and
buttons to the incident and its bridge, with a plain `text` fallback for notifications. Slack
answers API errors with HTTP 200 and `ok: false`; only the codes in TRANSIENT_ERRORS, 429 and 5xx
are worth another attempt. slack_sdk's own retries are off: the ledger owns retrying, with backoff."""

import re
from typing import Any

from django.conf import settings
from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from incidents.choices import IncidentStatus
from notifications.choices import ChannelKind, EventKind
from notifications.transport import (
    Message,
    PermanentSendError,
    SendResult,
    Target,
    TransientSendError,
    secret_scrub,
)

TIMEOUT = 10
TRANSIENT_ERRORS = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}
HEADER_LIMIT, SECTION_LIMIT, FIELD_LIMIT, FIELDS_MAX, URL_LIMIT = 150, 3000, 2000, 10, 3000


def escape(text: str) -> str:
    """Slack's mrkdwn control characters; user text must not open links or mentions (<!channel>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(message: Message, *, interactive: bool = False) -> dict[str, Any]:
    """The chat.postMessage / webhook body: `blocks` and the `text` fallback. `interactive` (bot
    messages) adds Acknowledge / Resolve buttons to messages about open incidents."""
    # Slack refuses a block whose text is empty ("invalid_blocks").
    title = " ".join(message.subject.split()) or message.event_label or "Mitigate"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, HEADER_LIMIT)}}
    ]
    if message.text.strip():
        text = {"type": "mrkdwn", "text": _cut(escape(message.text), SECTION_LIMIT)}
        blocks.append({"type": "section", "text": text})
    if message.facts:
        fields = [
            {"type": "mrkdwn", "text": _cut(f"*{escape(name)}*\n{escape(value)}", FIELD_LIMIT)}
            for name, value in message.facts[:FIELDS_MAX]
        ]
        blocks.append({"type": "section", "fields": fields})
    context = [escape(part) for part in (message.incident_reference, message.event_label) if part]
    if message.bundled:
        context.append(f"+{message.bundled} more")
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    buttons = _incident_buttons(message) if interactive else []
    if message.url and len(message.url) <= URL_LIMIT:
        buttons.append(_button("Open in Mitigate", message.url, "open"))
    if message.bridge_url and len(message.bridge_url) <= URL_LIMIT:
        buttons.append(_button("Join the bridge", message.bridge_url, "bridge"))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    fallback = escape(message.subject) + (f" {message.url}" if message.url else "")
    return {"text": fallback, "blocks": blocks}


# Labels of the statuses with nothing left to acknowledge or resolve (Message facts carry labels).
ENDED_STATUSES = {IncidentStatus.RESOLVED.label, IncidentStatus.CLOSED.label}
ENDED_EVENTS = {EventKind.RESOLVED, EventKind.CLOSED}


def _incident_buttons(message: Message) -> list[dict[str, Any]]:
    """Acknowledge / Resolve, answered by oncall's interactivity endpoint (value: the incident id).
    Only when Slack can reach it signed (SLACK_SIGNING_SECRET) and the incident is still open."""
    incident = message.data.get("incident") if isinstance(message.data, dict) else None
    status = incident.get("status", "") if isinstance(incident, dict) else ""
    if (
        not settings.SLACK_SIGNING_SECRET
        or message.incident_id is None
        or message.event_kind in ENDED_EVENTS
        or status in ENDED_STATUSES
    ):
        return []
    value = str(message.incident_id)
    resolve = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Resolve"},
        "action_id": "incident_resolve",
        "value": value,
        "confirm": {
            "title": {"type": "plain_text", "text": "Resolve the incident?"},
            "text": {"type": "plain_text", "text": _cut(f"Resolve {message.incident_reference}?", 300)},
            "confirm": {"type": "plain_text", "text": "Resolve"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        },
    }
    acknowledge = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Acknowledge"},
        "action_id": "incident_ack",
        "value": value,
        "style": "primary",
    }
    return [acknowledge, resolve]


def _button(label: str, url: str, action_id: str) -> dict[str, Any]:
    text = {"type": "plain_text", "text": label}
    return {"type": "button", "text": text, "url": url, "action_id": action_id}


def send(target: Target, message: Message) -> SendResult:
    if target.kind == ChannelKind.SLACK_WEBHOOK:
        return _send_webhook(target, message)
    return _send_bot(target, message)


# --- Incoming webhooks -------------------------------------------------------------------------------


def _send_webhook(target: Target, message: Message) -> SendResult:
    payload = render(message)
    if not target.secret:
        raise PermanentSendError("Slack webhook: the channel has no webhook URL.", payload=payload)
    client = WebhookClient(url=target.secret, timeout=TIMEOUT, retry_handlers=[])
    try:
        response = client.send_dict(payload)
    except SlackRequestError:
        raise PermanentSendError("Slack webhook: the webhook URL is not valid.", payload=payload) from None
    except OSError as exc:  # URLError, refused, reset, timeout
        raise TransientSendError(f"Slack webhook: unreachable ({_reason(exc)}).", payload=payload) from None
    status, body = response.status_code, secret_scrub((response.body or "")[:200], target.secret)
    if status == 200:
        return SendResult(payload=payload)
    if status == 429:
        raise TransientSendError(
            "Slack webhook: rate limited (HTTP 429).",
            retry_after=retry_after(response.headers),
            payload=payload,
        )
    if status >= 500:
        raise TransientSendError(f"Slack webhook: HTTP {status} {body}".rstrip() + ".", payload=payload)
    reason = f"Slack webhook refused the message: HTTP {status} {body}".rstrip()
    raise PermanentSendError(reason, payload=payload)


# --- Web API with a bot token ------------------------------------------------------------------------


def web_client(token: str) -> WebClient:
    base_url = getattr(settings, "NOTIFICATIONS_SLACK_API_URL", "") or "https://slack.com/api/"
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(token=token, base_url=base_url, timeout=TIMEOUT, retry_handlers=[])


def _send_bot(target: Target, message: Message) -> SendResult:
    channel = str(target.config.get("channel", "")).strip()
    payload = render(message, interactive=True)
    record = {"channel": channel, **({"thread_ts": target.thread} if target.thread else {}), **payload}
    if not target.secret:
        raise PermanentSendError("Slack: the channel has no bot token.", payload=record)
    if not channel:
        raise PermanentSendError("Slack: the channel has no Slack channel configured.", payload=record)
    arguments = {"channel": channel, "unfurl_links": False, **payload}
    if target.thread:
        arguments["thread_ts"] = target.thread
    response = _call(web_client(target.secret).chat_postMessage, payload=record, **arguments)
    ts = response.get("ts", "")
    return SendResult(provider_id=ts, thread="" if target.thread else ts, payload=record)


def _call(method, *, payload: Any = None, **arguments):
    """Call a WebClient method; Slack's failures become the ledger's two kinds of error."""
    try:
        return method(**arguments)
    except SlackApiError as exc:
        raise _api_error(exc.response, payload) from None
    except SlackRequestError as exc:
        reason = f"Slack: the request was refused before sending ({type(exc).__name__})."
        raise PermanentSendError(reason, payload=payload) from None
    except (OSError, ValueError) as exc:  # URLError, refused, reset, timeout; a body that is not JSON
        raise TransientSendError(f"Slack: API unreachable ({_reason(exc)}).", payload=payload) from None


def _api_error(response, payload: Any) -> Exception:
    status = response.status_code
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error", ""))[:200] or f"HTTP {status}"
    if status == 429 or error in ("ratelimited", "rate_limited"):
        return TransientSendError(
            f"Slack: rate limited ({error}).", retry_after=retry_after(response.headers), payload=payload
        )
    if status >= 500 or error in TRANSIENT_ERRORS:
        return TransientSendError(f"Slack: {error} (HTTP {status}).", payload=payload)
    return PermanentSendError(f"Slack: {error}.", payload=payload)


# --- Incident channels -------------------------------------------------------------------------------


def incident_channel_name(reference: str) -> str:
    """ "inc-<reference>" in Slack's channel-name alphabet (lowercase letters, digits, - and _, at
    most 80): "INC-2026-0042" gives "inc-2026-0042", not "inc-inc-2026-0042"."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", reference.lower()).strip("-")
    slug = slug.removeprefix("inc-")
    return f"inc-{slug}"[:80]


def incident_channel_create(token: str, name: str, *, invite: tuple[str, ...] | list[str] = ()) -> str:
    """Create a public channel and return its id; `invite` is a list of Slack user ids to add.
    A name already taken is a PermanentSendError ("name_taken"): the caller keeps the id it stored."""
    client = web_client(token)
    response = _call(client.conversations_create, name=name, is_private=False)
    channel_id = response["channel"]["id"]
    if invite:
        _call(client.conversations_invite, channel=channel_id, users=",".join(invite))
    return channel_id


def incident_channel_post(token: str, channel_id: str, message: Message, *, thread: str = "") -> SendResult:
    """Post to an incident channel (the bridge URL, when the message has one, as a button)."""
    target = Target(kind=ChannelKind.SLACK_BOT, config={"channel": channel_id}, secret=token, thread=thread)
    return _send_bot(target, message)


def incident_channel_archive(token: str, channel_id: str) -> None:
    """Archive the channel; one already archived is left as it is."""
    try:
        _call(web_client(token).conversations_archive, channel=channel_id)
    except PermanentSendError as exc:
        if "already_archived" not in str(exc):
            raise


# --- Shared by the two ways in ---------------------------------------------------------------------


def retry_after(headers) -> float | None:
    """Retry-After in seconds (Slack sends seconds), from a case-insensitive or a plain dict."""
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return None
    return None


def _reason(exc: BaseException) -> str:
    """The cause of a network error without the URL (urllib's errors carry no URL; keep it so)."""
    reason = getattr(exc, "reason", None) or exc
    return f"{type(exc).__name__}: {type(reason).__name__}" if reason is not exc else type(exc).__name__
