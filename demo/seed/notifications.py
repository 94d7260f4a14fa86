"""The demo's notifications: the Ops email channel (created by notifications' migration without an
address) given a demo address, a webhook channel posting to `make run`'s `receiver` process with a
secret shared through VAR_DIR, the default rules on, and a rule sending every event to the webhook.

seed_demo calls this with the notifications listener muted, so the demo incidents it writes are
never routed: the receiver shows what happens after `make run` starts, not weeks of made-up past."""

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings

from common.actor import Actor, Source
from notifications.choices import RULE_KINDS, ChannelKind, EventKind
from notifications.management.receiver import (
    receiver_secret_path,
    receiver_url,
    secret_file_read,
)
from notifications.models import Channel, NotificationRule
from notifications.services.channels import channel_save
from notifications.services.configuration import rule_save

OPS_CHANNEL = "Ops"
OPS_ADDRESS = "ops@example.com"
WEBHOOK_CHANNEL = "Demo receiver"
WEBHOOK_RULE = "Demo: every event to the local receiver"
# Written by notifications/migrations/0002_defaults.py.
DEFAULT_RULES = ("P1/P2 opened: tell the ops channel", "Runs awaiting approval: tell the approvers")
# Test messages go to one channel by themselves (channel_test_send); a rule never routes them.
WEBHOOK_EVENT_KINDS = [kind for kind in RULE_KINDS if kind != EventKind.TEST]  # Not the subscribers' kinds.


def _seeder() -> Actor:
    return Actor.system(source=Source.CLI, label="seed_demo")


def ops_channel_ensure(by: Actor) -> tuple[Channel, str]:
    """Give the migration's Ops channel the demo address when it has none; someone's own address
    (or a channel they turned into another kind) is left alone."""
    ops = Channel.objects.filter(name=OPS_CHANNEL).first()
    if ops is None:
        ops = channel_save(by=by, name=OPS_CHANNEL, kind=ChannelKind.EMAIL, config={"to": [OPS_ADDRESS]})
        return ops, "new"
    if ops.kind != ChannelKind.EMAIL or ops.config.get("to"):
        return ops, "kept"
    ops = channel_save(
        by=by, channel=ops, name=ops.name, kind=ops.kind, config={**ops.config, "to": [OPS_ADDRESS]}
    )
    return ops, "address added"


def webhook_channel_ensure(by: Actor) -> tuple[Channel, str, str]:
    """The webhook channel to the receiver, its URL following the web server's port. Its secret is
    kept while the receiver's file still holds it; otherwise (file deleted, another checkout) a new
    one is made, for the caller to file after commit. Returns (channel, secret, status)."""
    url = receiver_url()
    filed = secret_file_read(receiver_secret_path())
    channel = Channel.objects.filter(name=WEBHOOK_CHANNEL).first()
    if channel is None:
        secret = secrets.token_urlsafe(32)
        channel = channel_save(
            by=by, name=WEBHOOK_CHANNEL, kind=ChannelKind.WEBHOOK, config={"url": url}, secret=secret
        )
        return channel, secret, "new"
    if channel.kind != ChannelKind.WEBHOOK:
        # Someone made it something else: leave it, and file nothing the receiver could trust.
        return channel, filed, "kept"
    rotate = not filed or not secrets.compare_digest(filed, channel.secret)
    secret = secrets.token_urlsafe(32) if rotate else filed
    if rotate or channel.config.get("url") != url:
        channel = channel_save(
            by=by,
            channel=channel,
            name=channel.name,
            kind=channel.kind,
            config={**channel.config, "url": url},
            secret=secret if rotate else "",
            enabled=channel.enabled,
        )
    return channel, secret, "rotated" if rotate else "kept"


def rules_ensure(by: Actor, webhook: Channel) -> tuple[NotificationRule, bool]:
    """The every-event rule, created once; on that first run the default rules are switched on
    too. Later runs leave the rules as people set them."""
    rule = NotificationRule.objects.filter(name=WEBHOOK_RULE).first()
    if rule is not None:
        if webhook.kind == ChannelKind.WEBHOOK and not rule.channels.filter(pk=webhook.pk).exists():
            rule = rule_save(by=by, rule=rule, channels=[*rule.channels.all(), webhook])
        return rule, False
    rule = rule_save(
        by=by,
        name=WEBHOOK_RULE,
        position=100,
        enabled=True,
        event_kinds=WEBHOOK_EVENT_KINDS,
        channels=[webhook],
    )
    for default in NotificationRule.objects.filter(name__in=DEFAULT_RULES, enabled=False):
        rule_save(by=by, rule=default, enabled=True)
    return rule, True


def notifications_ensure() -> dict[str, Any]:
    """Everything above, inside the caller's transaction; the secret is filed by
    `receiver_secret_write` once that has committed."""
    by = _seeder()
    ops, ops_status = ops_channel_ensure(by)
    webhook, secret, secret_status = webhook_channel_ensure(by)
    rule, new_rule = rules_ensure(by, webhook)
    return {
        "ops": ops,
        "ops_status": ops_status,
        "webhook": webhook,
        "secret": secret,
        "secret_status": secret_status,
        "rule": rule,
        "new_rule": new_rule,
    }


def receiver_secret_write(secret: str) -> Path:
    """File the webhook secret for the receiver (mode 0600, replaced atomically)."""
    path = receiver_secret_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # In case a crashed run left the temporary file behind.
    with os.fdopen(descriptor, "w") as handle:
        handle.write(f"{secret}\n")
    os.replace(temporary, path)
    return path


def where_email_goes() -> str:
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if backend == "filebased":
        return f"written as files to {settings.EMAIL_FILE_PATH}/"
    if backend == "console":
        return "printed by the worker"
    if backend in ("locmem", "dummy"):
        return "kept in memory (not sent)"
    return "sent through EMAIL_URL's server"


def notifications_lines(*, base: str, notifications: dict[str, Any]) -> list[str]:
    webhook, ops = notifications["webhook"], notifications["ops"]
    secret_note = {
        "new": "new",
        "kept": "unchanged",
        "rotated": "rotated (the receiver reads the new one at once)",
    }[notifications["secret_status"]]
    to = ", ".join(ops.config.get("to") or []) or "no address"
    return [
        "",
        f"  Notifications: every incident event is posted, signed, to the webhook channel {webhook.name}",
        f"    ({webhook.config.get('url', '')}); the `receiver` process prints each message in this console.",
        f"    Signing secret {secret_note}; filed in {receiver_secret_path()} for the receiver.",
        f"    Email ({ops.name} channel: {to}; approvers) is {where_email_goes()}.",
        f"    Channels, rules, templates and the delivery ledger: {base}/admin/notifications/",
    ]
