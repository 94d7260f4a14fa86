"""Thin, idempotent tasks: route an event, send a delivery, sweep the ledger."""

from typing import Any

from celery import shared_task

from notifications.services import deliveries, routing, sending


@shared_task(acks_late=True)
def event_route(event: dict[str, Any]) -> int:
    """Create the deliveries of one event; a repeated message finds them made and adds none."""
    return len(routing.event_route(event=event))


@shared_task(acks_late=True)
def events_route(events: list[dict[str, Any]]) -> int:
    """Create the deliveries of events recorded together, each as `event_route` would."""
    return len(routing.events_route(events=events))


@shared_task(acks_late=True)
def delivery_send(delivery_id: int) -> str:
    """Send one delivery if it is still due; claimed under a lock, so never twice."""
    delivery = sending.delivery_send(delivery_id=delivery_id)
    return delivery.status if delivery else "skipped"


@shared_task(acks_late=True)
def deliveries_sweep() -> dict[str, int]:
    return deliveries.deliveries_sweep()
