"""Helpers for the admin and API tests: channels and deliveries made through the services, as
production makes them."""

import uuid

from django.utils import timezone

from common.actor import Actor
from incidents.models import Incident
from notifications.choices import ChannelKind, EventKind
from notifications.models import Channel, Delivery
from notifications.services.channels import channel_save, channel_test_send
from notifications.services.configuration import rule_save
from notifications.services.routing import event_route
from tests.notifications.conftest import WEBHOOK_SECRET

SYSTEM = Actor.system()


def webhook_channel(receiver, *, name: str = "Ops webhook", secret: str = WEBHOOK_SECRET) -> Channel:
    return channel_save(
        by=SYSTEM,
        name=name,
        kind=ChannelKind.WEBHOOK,
        config={"url": f"{receiver.url}/hooks/mitigate"},
        secret=secret,
    )


def dead_delivery(receiver, channel: Channel) -> Delivery:
    """A test send the receiver refuses for good (a 4xx): dead, with its error."""
    receiver.fail(400, body={"error": "no such hook"})
    delivery = channel_test_send(channel=channel, by=SYSTEM)
    assert delivery.status == "dead", delivery.error
    return delivery


def incident_deliveries(incident: Incident, channel: Channel, kind: str = EventKind.INCIDENT_OPENED):
    """Route one event of `incident` through a rule to `channel`: the deliveries routing writes."""
    rule_save(
        by=SYSTEM, name=f"To {channel.name} {uuid.uuid4().hex[:6]}", event_kinds=[kind], channels=[channel]
    )
    return event_route(
        event={
            "key": uuid.uuid4().hex,
            "kind": kind,
            "topic": "incident",
            "incident": incident.pk,
            "run": None,
            "message": f"{incident.title} opened.",
            "details": {},
            "at": timezone.now().isoformat(),
            "by": "responder",
            "by_user": None,
        }
    )
