"""The ledger's housekeeping: retry by hand, and the beat sweeper that finds lost messages."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.actor import Actor
from common.exceptions import TransitionNotAllowedError
from notifications.choices import DeliveryStatus
from notifications.models import Delivery
from notifications.services.routing import delivery_enqueue

logger = logging.getLogger(__name__)
RETRY_PERMISSION = "notifications.change_delivery"
LOST_SEND = (
    "The worker sending it stopped before recording the outcome; it is not resent automatically so "
    "that nobody gets it twice. Retry it if it did not arrive."
)


def delivery_retry(*, delivery: Delivery, by: Actor) -> Delivery:
    """Send a failed or dead delivery again, now, with a fresh round of attempts."""
    by.require(RETRY_PERMISSION, "retry deliveries")
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update(of=("self",)).select_related("channel").get(pk=delivery.pk)
        )
        if locked.status not in (DeliveryStatus.FAILED, DeliveryStatus.DEAD):
            # A state conflict (409 in the API), not bad input: someone may have retried it already.
            raise TransitionNotAllowedError(
                "Only failed or dead deliveries can be retried;"
                f" this one is {locked.get_status_display().lower()}."
            )
        if locked.channel is not None and not locked.channel.enabled:
            raise ValidationError({"channel": ["The channel is disabled: fix and enable it first."]})
        locked.retry()
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.task_id = uuid.uuid4().hex
        locked.error = f"Retried by {by}. Previous error: {locked.error}"[:4000]
        locked.save()
        delivery_enqueue(locked)
    return locked


def deliveries_sweep(*, now=None) -> dict[str, int]:
    """Beat: enqueue again what is due but was not sent (a lost message, a broker that was down),
    and close deliveries whose worker died mid-send."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS)
    counts = {"requeued": 0, "lost": 0}
    due = Delivery.objects.filter(
        status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED), next_attempt_at__lte=now - grace
    ).values_list("pk", flat=True)[:1000]
    for delivery_id in list(due):
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(pk=delivery_id, status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED))
                .first()
            )
            if delivery is None:
                continue
            delivery.task_id = uuid.uuid4().hex
            delivery.save(update_fields=["task_id", "updated_at"])
            delivery_enqueue(delivery)
            counts["requeued"] += 1
    stuck = Delivery.objects.filter(
        status=DeliveryStatus.SENDING,
        claimed_at__lte=now - timedelta(seconds=settings.NOTIFICATIONS_SEND_TIMEOUT_SECONDS),
    ).values_list("pk", flat=True)[:1000]
    for delivery_id in list(stuck):
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(pk=delivery_id, status=DeliveryStatus.SENDING)
                .first()
            )
            if delivery is None:
                continue
            delivery.give_up()
            delivery.error = LOST_SEND
            delivery.save()
            counts["lost"] += 1
    if any(counts.values()):
        logger.info("Delivery sweep: %s", counts)
    return counts
