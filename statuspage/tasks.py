"""Thin, idempotent tasks: ids in, a service call out."""

from celery import shared_task

from common.actor import Actor
from common.exceptions import PermissionDeniedError
from incidents.choices import EventKind
from incidents.models import StatusUpdate
from incidents.services.timeline import timeline_event_record
from statuspage.services import from_incident, public_incidents, subscribers


@shared_task(acks_late=True)
def status_update_publish(status_update_id: int) -> int | None:
    """Carry an incident's public status update to the status page (once)."""
    update = StatusUpdate.objects.select_related("author", "incident").filter(pk=status_update_id).first()
    if update is None:
        return None
    try:
        posted = from_incident.status_update_publish(status_update=update)
    except PermissionDeniedError as refusal:
        timeline_event_record(
            incident=update.incident,
            kind=EventKind.NOTE,
            by=Actor.system(label="status page"),
            message=f"The public update was not posted to the status page: {refusal}",
            details={"statuspage": {"refused": update.pk}},
        )
        return None
    return posted.pk if posted else None


@shared_task(acks_late=True)
def update_fan_out(update_id: int) -> int:
    """One delivery per subscriber who wants this update (the ledger sends them)."""
    return subscribers.update_fan_out(update_id=update_id)


@shared_task(acks_late=True)
def maintenance_sweep() -> dict[str, int]:
    return public_incidents.maintenance_sweep()
