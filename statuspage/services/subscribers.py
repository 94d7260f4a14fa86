"""Status page subscribers: each update becomes one ledger delivery per subscriber who wants it."""

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from notifications.choices import EventKind
from notifications.models import Delivery
from notifications.services.routing import delivery_enqueue
from statuspage.choices import SubscriberKind, SubscriberStatus
from statuspage.models import PublicUpdate, Subscriber

EXTERNAL = "statuspage.subscriber"


def subscribers_for(update: PublicUpdate):
    """Active subscribers who chose no components (all of them) or one the incident names."""
    named = list(update.public_incident.affected.values_list("component_id", flat=True))
    return (
        Subscriber.objects.filter(status=SubscriberStatus.ACTIVE)
        .filter(Q(components__isnull=True) | Q(components__in=named))
        .distinct()
        .order_by("pk")
    )


def update_fan_out(*, update_id: int) -> int:
    """Idempotent: (update, subscriber) is the delivery's unique key, so a repeated task adds none."""
    update = PublicUpdate.objects.select_related("public_incident").filter(pk=update_id, notify=True).first()
    if update is None:
        return 0
    created = 0
    now = timezone.now()
    for subscriber in subscribers_for(update).iterator(chunk_size=500):
        address = subscriber.email if subscriber.kind == SubscriberKind.EMAIL else subscriber.webhook_host
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    event_key=f"statuspage-update:{update.pk}",
                    target_key=f"s:{subscriber.pk}",
                    event_kind=EventKind.STATUS_PAGE,
                    event={"update": update.pk, "subscriber": subscriber.pk},
                    incident_id=update.public_incident.incident_id,
                    external=EXTERNAL,
                    contact_kind=subscriber.kind,
                    address=address[:254],
                    audience="customer",
                    next_attempt_at=now,
                    task_id=uuid.uuid4().hex,
                )
                delivery_enqueue(delivery)
        except IntegrityError:
            continue  # Already there (a repeated task).
        created += 1
    return created
