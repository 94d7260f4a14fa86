"""SMS through Twilio's Messages API with twilio-python's Client. The channel's secret is
"<account SID>:<auth token>", the sender `config["from_number"]` (or `config["messaging_service_sid"]`),
the recipient `target.address` in E.164 form.

The body fits one 160-character segment: the subject, cut to fit, then the link. Cuts use "..."
rather than "…", which is not in the GSM-7 alphabet and would make the whole message UCS-2, whose
segments hold 70 characters.

settings.NOTIFICATIONS_TWILIO_API_URL, when set, replaces https://api.twilio.com (a local receiver
in tests, a proxy). twilio-python has no base-URL option; its documented extension point is a custom
HTTP client, so `_HttpClient` rewrites the scheme and host of each request it is handed."""

import re
from urllib.parse import urlsplit

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.transport import Message, PermanentSendError, SendResult, Target, TransientSendError

TIMEOUT = 10
LIMIT = 160
LINK_LIMIT = 100  # a longer link would leave no room for the subject; it is left out
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def render(message: Message) -> dict[str, str]:
    return {"body": body(message)}


def body(message: Message) -> str:
    subject = " ".join(message.subject.split()) or message.event_label or "Mitigate"
    link = message.url if message.url and len(message.url) <= LINK_LIMIT else ""
    room = LIMIT - (len(link) + 1 if link else 0)
    if len(subject) > room:
        subject = subject[: room - 3].rstrip() + "..."
    return f"{subject} {link}" if link else subject


class _HttpClient(TwilioHttpClient):
    """Twilio's HTTP client with a 10 s timeout, sending to `base_url` instead of Twilio's hosts."""

    def __init__(self, base_url: str = "") -> None:
        super().__init__(timeout=TIMEOUT)
        self.base_url = base_url.rstrip("/")
        self.last_headers = {}

    def request(self, method, url, *args, **kwargs):
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        response = super().request(method, url, *args, **kwargs)
        self.last_headers = response.headers or {}  # Retry-After, which TwilioRestException drops
        return response


def client(sid: str, token: str) -> Client:
    base_url = getattr(settings, "NOTIFICATIONS_TWILIO_API_URL", "")
    return Client(sid, token, http_client=_HttpClient(base_url))


def phone_number(address: str) -> str:
    number = re.sub(r"[\s().-]", "", address)
    if not E164.match(number):
        raise PermanentSendError(f"SMS: {address[:40]!r} is not a phone number in E.164 form (+15551234567).")
    return number


def phone_numbers(address: str) -> list[str]:
    """One number or several, comma-separated (an SMS channel's phones); each in E.164 form."""
    numbers = [phone_number(part) for part in address.split(",") if part.strip()]
    if not numbers:
        raise PermanentSendError("SMS: no phone number to send to.")
    return list(dict.fromkeys(numbers))


def send(target: Target, message: Message) -> SendResult:
    """One message per number. Every number is checked before the first is sent; when a later
    number fails, the error names those already sent, and a retry (`target.reached`) skips them."""
    text = body(message)
    payload = {"to": target.address, "body": text}
    try:
        numbers = phone_numbers(target.address)
    except PermanentSendError as exc:
        raise PermanentSendError(str(exc), payload=payload) from None
    sid, _, token = target.secret.partition(":")
    if not sid or not token:
        raise PermanentSendError(
            'SMS: the channel\'s secret is not "<account SID>:<auth token>".', payload=payload
        )
    sender = {}
    if target.config.get("messaging_service_sid"):
        sender["messaging_service_sid"] = target.config["messaging_service_sid"]
    elif target.config.get("from_number"):
        sender["from_"] = target.config["from_number"]
    else:
        raise PermanentSendError("SMS: the channel has no from number.", payload=payload)
    payload = {"to": ", ".join(numbers), "from": target.config.get("from_number", ""), "body": text}
    twilio = client(sid, token)
    sids: list[str] = []
    sent = [number for number in numbers if number in target.reached]
    for number in numbers:
        if number in sent:
            continue
        try:
            sids.append(twilio.messages.create(to=number, body=text, **sender).sid or "")
        except Exception as exc:
            error = _error(exc, twilio.http_client, payload)
            if sent:
                error.args = (f"{error.args[0]} (already sent to {', '.join(sent)})",)
                error.payload = {**payload, "sent": sent}
            raise error from None
        sent.append(number)
    return SendResult(provider_id=",".join(sids), payload=payload)


def _error(exc: Exception, http_client, payload) -> Exception:
    if isinstance(exc, TwilioRestException):
        return _rest_error(exc, http_client, payload)
    if isinstance(exc, requests.RequestException):  # refused, reset, timed out; its text names the URL
        return TransientSendError(f"SMS: Twilio unreachable ({type(exc).__name__}).", payload=payload)
    if isinstance(exc, TwilioException):
        return TransientSendError(f"SMS: Twilio client error ({type(exc).__name__}).", payload=payload)
    raise exc


def _rest_error(exc: TwilioRestException, http_client, payload) -> Exception:
    # Twilio's text names the number, never the credentials; the URI (with the SID) is left out.
    detail = f"HTTP {exc.status}" + (f", error {exc.code}" if exc.code else "") + f": {exc.msg}"
    if exc.status == 429:
        headers = getattr(http_client, "last_headers", {})
        return TransientSendError(
            f"SMS: {detail}", retry_after=_seconds(headers.get("Retry-After")), payload=payload
        )
    if exc.status >= 500:
        return TransientSendError(f"SMS: {detail}", payload=payload)
    return PermanentSendError(f"SMS: {detail}", payload=payload)


def _seconds(value) -> float | None:
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return None
