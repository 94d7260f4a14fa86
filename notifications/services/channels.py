"""Channels: save (secrets write-only: an empty secret keeps the stored one), enable, delete, test
send."""

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.actor import Actor
from notifications.choices import ChannelKind, EventKind
from notifications.models import Channel, Delivery
from notifications.services.routing import Recipient, deliveries_create
from notifications.services.sending import delivery_send

CHANGE_PERMISSION = "notifications.change_channel"
ADD_PERMISSION = "notifications.add_channel"
# What each kind needs: secret required?, config keys required.
NEEDS: dict[str, tuple[bool, tuple[str, ...]]] = {
    ChannelKind.SLACK_WEBHOOK: (True, ()),
    ChannelKind.SLACK_BOT: (True, ("channel",)),
    ChannelKind.TEAMS: (True, ()),
    ChannelKind.EMAIL: (False, ("to",)),
    ChannelKind.SMS: (True, ("to", "from_number")),
    ChannelKind.WEBHOOK: (True, ("url",)),
    ChannelKind.APPRISE: (True, ()),
}


def channel_validate(*, kind: str, config: dict[str, Any], secret: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind not in ChannelKind.values:
        return {"kind": [f"Unknown kind {kind!r}."]}
    if not isinstance(config, dict):
        return {"config": ["Settings must be a JSON object."]}
    secret_needed, keys = NEEDS[kind]
    if secret_needed and not secret:
        errors["secret"] = ["This kind of channel needs its secret (webhook URL, token or key)."]
    missing = [key for key in keys if not config.get(key)]
    if missing:
        errors["config"] = [f"Missing setting(s): {', '.join(missing)}."]
    to = config.get("to")
    if (
        "to" in keys
        and to
        and not (isinstance(to, list) and all(isinstance(item, str) and item for item in to))
    ):
        errors.setdefault("config", []).append('"to" must be a list of addresses.')
    if (
        kind == ChannelKind.WEBHOOK
        and config.get("url")
        and not str(config["url"]).startswith(("http://", "https://"))
    ):
        errors.setdefault("config", []).append('"url" must be an http(s) URL.')
    if (
        kind in (ChannelKind.SLACK_WEBHOOK, ChannelKind.TEAMS)
        and secret
        and not secret.startswith("https://")
    ):
        errors["secret"] = ["The webhook URL must start with https://."]
    return errors


def channel_save(
    *,
    by: Actor,
    channel: Channel | None = None,
    name: str,
    kind: str,
    config: dict[str, Any] | None = None,
    secret: str = "",
    enabled: bool = True,
) -> Channel:
    """Create or change a channel. An empty `secret` keeps the stored one (it is never shown back).
    Enabling a disabled channel clears its failure count."""
    by.require(CHANGE_PERMISSION if channel else ADD_PERMISSION, "change notification channels")
    config = config if config is not None else {}
    effective_secret = secret or (channel.secret if channel and channel.kind == kind else "")
    errors = channel_validate(kind=kind, config=config, secret=effective_secret)
    if not name.strip():
        errors["name"] = ["A channel needs a name."]
    elif Channel.objects.filter(name=name.strip()).exclude(pk=channel.pk if channel else None).exists():
        errors["name"] = ["A channel with this name exists."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        channel = channel or Channel()
        was_enabled = channel.enabled if channel.pk else False
        channel.name, channel.kind, channel.config, channel.secret = (
            name.strip(),
            kind,
            config,
            effective_secret,
        )
        channel.enabled = enabled
        if enabled and not was_enabled:
            channel.permanent_failures = 0
            channel.disabled_reason = ""
            channel.paused_until = None
        channel.save()
    return channel


def channel_enable(*, channel: Channel, by: Actor) -> Channel:
    """Enable a channel disabled after failures (or by hand), with a fresh failure count."""
    stored = Channel.objects.get(pk=channel.pk)
    return channel_save(
        by=by,
        channel=stored,
        name=stored.name,
        kind=stored.kind,
        config=stored.config,
        enabled=True,
    )


def channel_delete(*, channel: Channel, by: Actor) -> None:
    """Remove a channel, and with it its ledger rows (deliveries) and Slack threads."""
    by.require("notifications.delete_channel", "delete notification channels")
    channel.delete()


def channel_test_send(*, channel: Channel, by: Actor) -> Delivery:
    """Send a test message now, through the ledger like any other, and return its delivery."""
    by.require(CHANGE_PERMISSION, "send test messages")
    event = {
        "key": uuid.uuid4().hex,
        "kind": EventKind.TEST.value,
        "topic": "notifications",
        "incident": None,
        "run": None,
        "message": f"Test message for {channel.name}.",
        "details": {"channel": channel.name, "channel_id": channel.pk},
        "at": timezone.now().isoformat(),
        "by": str(by),
        "by_user": by.user.pk if by.user else None,
    }
    if not channel.enabled:
        raise ValidationError({"channel": ["The channel is disabled; enable it to send."]})
    [delivery] = deliveries_create(
        event=event, incident=None, planned=[(None, Recipient(target_key=f"c:{channel.pk}", channel=channel))]
    )
    return delivery_send(delivery_id=delivery.pk) or Delivery.objects.get(pk=delivery.pk)
