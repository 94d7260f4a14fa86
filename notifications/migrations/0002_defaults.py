"""The default templates (from notifications/rendering/defaults.py, as they read today) and the
default rules: P1/P2 opened -> the ops channel; runs awaiting approval -> the approvers by email.

The ops channel is an email channel to OPS_NOTIFICATION_EMAIL; without that address it is created
disabled, with the reason saying what to set."""

import os

from django.db import migrations

OPS_EMAIL_ENV = "OPS_NOTIFICATION_EMAIL"


def defaults_write(apps, schema_editor):
    from notifications.rendering.defaults import DEFAULTS

    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    Channel = apps.get_model("notifications", "Channel")
    NotificationRule = apps.get_model("notifications", "NotificationRule")
    Priority = apps.get_model("incidents", "Priority")
    for (kind, audience), (subject, body) in DEFAULTS.items():
        MessageTemplate.objects.get_or_create(
            event_kind=kind, audience=audience, defaults={"subject": subject, "body": body}
        )
    address = os.environ.get(OPS_EMAIL_ENV, "").strip()
    ops, _ = Channel.objects.get_or_create(
        name="Ops",
        defaults={
            "kind": "email",
            "config": {"to": [address] if address else []},
            "enabled": bool(address),
            "disabled_reason": "" if address else f"No address yet: add one under “to” (or set {OPS_EMAIL_ENV} before migrating) and enable it.",
        },
    )
    opened, created = NotificationRule.objects.get_or_create(
        name="P1/P2 opened: tell the ops channel",
        defaults={"position": 10, "event_kinds": ["incident_opened"]},
    )
    if created:
        opened.channels.set([ops])
        opened.priorities.set(Priority.objects.filter(code__in=["P1", "P2"]))
    NotificationRule.objects.get_or_create(
        name="Runs awaiting approval: tell the approvers",
        defaults={
            "position": 20,
            "event_kinds": ["run_awaiting_approval"],
            "roles": ["approvers"],
            "contact_kinds": ["email"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("incidents", "0009_incident_bridge_url"),
    ]

    operations = [migrations.RunPython(defaults_write, migrations.RunPython.noop)]
