"""A component's status: set by an operator, or worked out from the open public incidents and
maintenance windows that name it. Every change is recorded for the history bars."""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.actor import Actor
from statuspage.cache import page_changed
from statuspage.choices import ACTIVE, ComponentStatus, worst
from statuspage.models import AffectedComponent, Component, ComponentStatusChange, PublicIncident

CHANGE_PERMISSION = "statuspage.change_component"


def status_check(status: str, field: str = "status") -> None:
    if status not in ComponentStatus.values:
        raise ValidationError({field: [f"Choose one of {', '.join(ComponentStatus.values)}."]})


def status_record(
    *, component: Component, status: str, at: datetime, public_incident: PublicIncident | None = None
) -> bool:
    """Store `status` on the (locked) component and its history; False when it was already so."""
    if component.status == status:
        return False
    component.status = status
    component.status_changed_at = at
    component.save(update_fields=["status", "status_changed_at", "updated_at"])
    ComponentStatusChange.objects.create(
        component=component, status=status, at=at, public_incident=public_incident
    )
    page_changed()
    return True


def component_status_set(*, component: Component, status: str, by: Actor) -> Component:
    """An operator's word on a component (the admin, the API's PATCH)."""
    by.require(CHANGE_PERMISSION, "change component statuses")
    status_check(status)
    with transaction.atomic():
        locked = Component.objects.select_for_update(of=("self",)).get(pk=component.pk)
        status_record(component=locked, status=status, at=timezone.now())
    return locked


def components_settle(
    *, component_ids: Iterable[int], at: datetime, public_incident: PublicIncident | None = None
) -> None:
    """Give each component the worst status the open incidents and running maintenance give it, or
    operational when none names it any more. Called when one of them ends (inside its transaction)."""
    ids = sorted(set(component_ids))
    if not ids:
        return
    held: dict[int, list[str]] = {pk: [] for pk in ids}
    for component_id, status in AffectedComponent.objects.filter(
        component_id__in=ids, public_incident__status__in=ACTIVE
    ).values_list("component_id", "status"):
        held[component_id].append(status)
    for component in Component.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"):
        status_record(
            component=component, status=worst(held[component.pk]), at=at, public_incident=public_incident
        )
