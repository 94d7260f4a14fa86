"""One module per channel kind, each with `send(target, message) -> SendResult` and
`render(message)`; this package picks the module by the kind. The interface (Message, Target,
SendResult and the two errors) is notifications/transport.py."""

from typing import Any

from notifications.choices import ChannelKind
from notifications.integrations import apprise_url, email, slack, sms, teams, webhook
from notifications.transport import Message, SendResult, Target

MODULES = {
    ChannelKind.SLACK_WEBHOOK: slack,
    ChannelKind.SLACK_BOT: slack,
    ChannelKind.TEAMS: teams,
    ChannelKind.EMAIL: email,
    ChannelKind.SMS: sms,
    ChannelKind.WEBHOOK: webhook,
    ChannelKind.APPRISE: apprise_url,
}


def _module(kind: str):
    try:
        return MODULES[ChannelKind(kind)]
    except (KeyError, ValueError):
        raise ValueError(f"No integration for channel kind {kind!r}.") from None


def send(target: Target, message: Message) -> SendResult:
    """Send with the integration of `target.kind`; raises TransientSendError or PermanentSendError."""
    return _module(target.kind).send(target, message)


def render(kind: str, message: Message) -> Any:
    """What `send` would send for this kind (secrets never appear in it): the admin's preview."""
    return _module(kind).render(message)
