"""Slack's interactivity Request URL: the Acknowledge / Resolve buttons of bot messages. Every
request is checked against SLACK_SIGNING_SECRET (slack_sdk's SignatureVerifier: HMAC over the
timestamp and the raw body, at most five minutes old); anything else is 401 and changes nothing.
The answer to the clicker is an ephemeral message through the payload's response_url."""

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from common.exceptions import ApplicationError
from oncall.services.acks import SLACK_ACK, SLACK_RESOLVE, slack_action_apply, slack_user_match

logger = logging.getLogger(__name__)

TIMEOUT = 10
NOT_LINKED = (
    "Mitigate does not know your Slack account. Use the same email address in Slack and in "
    "Mitigate (your user's email, or an email contact method in the admin), then press again."
)


@csrf_exempt
@require_POST
def interactivity(request: HttpRequest) -> HttpResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        return HttpResponse("Payload too large.", status=413, content_type="text/plain")
    secret = settings.SLACK_SIGNING_SECRET
    headers = {
        "x-slack-request-timestamp": request.headers.get("X-Slack-Request-Timestamp", ""),
        "x-slack-signature": request.headers.get("X-Slack-Signature", ""),
    }
    if not _verified(secret, body, headers):
        return HttpResponse("Invalid signature.", status=401, content_type="text/plain")
    payload = _payload(body)
    if payload is None:
        return HttpResponse("The body has no interaction payload.", status=400, content_type="text/plain")
    if payload.get("type") != "block_actions":
        return HttpResponse(status=200)  # other interactions (shortcuts, view submissions) are not ours
    actions = payload.get("actions")
    actions = [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []
    action = next((a for a in actions if a.get("action_id") in (SLACK_ACK, SLACK_RESOLVE)), None)
    if action is None:
        return HttpResponse(status=200)  # the link buttons ("Open in Mitigate") also report clicks
    text = _act(payload, action)
    return _reply(payload, text)


def _verified(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    # The verifier reads the timestamp with int(): a missing or garbled one is refused here first.
    if not secret or not headers["x-slack-request-timestamp"].isdigit() or not headers["x-slack-signature"]:
        return False
    return SignatureVerifier(secret).is_valid_request(body, headers)


def _payload(body: bytes) -> dict[str, Any] | None:
    try:
        raw = parse_qs(body.decode("utf-8"), strict_parsing=False).get("payload", [""])[-1]
        payload = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _act(payload: dict[str, Any], action: dict[str, Any]) -> str:
    slack_user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    channel = payload.get("channel") if isinstance(payload.get("channel"), dict) else {}
    try:
        user = slack_user_match(
            slack_user_id=_text(slack_user.get("id")), slack_channel_id=_text(channel.get("id"))
        )
        if user is None:
            return NOT_LINKED
        return slack_action_apply(
            action_id=_text(action.get("action_id")), incident_id=_text(action.get("value")), user=user
        )
    except ApplicationError as error:
        return error.message


def _reply(payload: dict[str, Any], text: str) -> HttpResponse:
    """Post the ephemeral answer to the response_url Slack signed into the payload; without one,
    answer in the HTTP response."""
    message = {"response_type": "ephemeral", "replace_original": False, "text": text}
    response_url = _text(payload.get("response_url"))
    if response_url.startswith(("https://", "http://")):
        try:
            client = WebhookClient(url=response_url, timeout=TIMEOUT, retry_handlers=[])
            sent = client.send_dict(message)
            if sent.status_code == 200:
                return HttpResponse(status=200)
            logger.warning("Slack response_url answered HTTP %s", sent.status_code)
        except Exception as exc:
            logger.warning("Slack response_url failed: %s", type(exc).__name__)
    return JsonResponse(message)
