"""Microsoft Teams through a Workflows (Power Automate) webhook: "When a Teams webhook request is
received" takes a message envelope with an Adaptive Card attachment and answers 202. The retired
Office 365 connector's MessageCard is not supported. The workflow URL is the channel's secret (its
query string carries the signature), so it never appears in an error or the ledger's payload.

No maintained client builds Adaptive Cards for a webhook, so this one is written by hand (schema
1.4, what Teams renders)."""

from typing import Any

import requests

from notifications.integrations.http import response_outcome
from notifications.transport import Message, PermanentSendError, SendResult, Target, TransientSendError

TIMEOUT = 10
URGENT = {"P1", "P2"}


def render(message: Message) -> dict[str, Any]:
    """The Workflows envelope around an Adaptive Card 1.4."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.subject,
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
            "style": "heading",
            **({"color": "Attention"} if message.severity in URGENT else {}),
        }
    ]
    if message.event_label or message.bundled:
        label = message.event_label + (f" (+{message.bundled} more)" if message.bundled else "")
        body.append({"type": "TextBlock", "text": label, "isSubtle": True, "spacing": "None", "wrap": True})
    if message.text:
        body.append({"type": "TextBlock", "text": message.text, "wrap": True})
    if message.facts:
        facts = [{"title": name, "value": value} for name, value in message.facts]
        body.append({"type": "FactSet", "facts": facts})
    actions = []
    if message.url:
        actions.append({"type": "Action.OpenUrl", "title": "Open in Mitigate", "url": message.url})
    if message.bridge_url:
        actions.append({"type": "Action.OpenUrl", "title": "Join the bridge", "url": message.bridge_url})
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
        "actions": actions,
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def send(target: Target, message: Message) -> SendResult:
    payload = render(message)
    if not target.secret.startswith(("https://", "http://")):
        raise PermanentSendError("Teams: the channel has no valid workflow URL.", payload=payload)
    try:
        response = requests.post(target.secret, json=payload, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:  # its text names the URL: keep only the kind of failure
        raise TransientSendError(
            f"Teams: workflow unreachable ({type(exc).__name__}).", payload=payload
        ) from None
    return response_outcome(response, name="Teams", id_header="x-ms-workflow-run-id", payload=payload)
