"""Telling the admins about the notification system itself (a channel disabled after failures):
straight to every active superuser's email, whatever the rules say."""

import uuid

from django.contrib.auth.models import User
from django.utils import timezone

from notifications.choices import ContactKind, EventKind
from notifications.models import Channel
from notifications.services.routing import deliveries_create, person_recipients


def channel_disabled_tell(*, channel: Channel) -> None:
    event = {
        "key": uuid.uuid4().hex,
        "kind": EventKind.CHANNEL_DISABLED.value,
        "topic": "notifications",
        "incident": None,
        "run": None,
        "message": f"The channel {channel.name} was disabled. {channel.disabled_reason}",
        "details": {"channel": channel.name, "channel_id": channel.pk},
        "at": timezone.now().isoformat(),
        "by": "system",
        "by_user": None,
    }
    admins = User.objects.filter(is_active=True, is_superuser=True).prefetch_related("contact_methods")
    planned = [
        (None, recipient) for user in admins for recipient in person_recipients(user, [ContactKind.EMAIL])
    ]
    if planned:
        deliveries_create(event=event, incident=None, planned=planned)
