"""The service catalog: adding and editing the services incidents refer to."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from common.actor import Actor
from incidents.choices import ServiceTier, ServiceType
from incidents.derived import service_removed, services_regrouped
from incidents.models import Incident, Priority, Service

ADD_PERMISSION = "incidents.add_service"
CHANGE_PERMISSION = "incidents.change_service"
SERVICE_FIELDS = ("name", "slug", "type", "owner_team", "owner_email", "runbook_url", "tier", "description")


def _save(service: Service) -> None:
    service.full_clean()
    try:
        with transaction.atomic():
            service.save()
    except IntegrityError as exc:
        # full_clean saw no clash, so a concurrent request took the name or slug meanwhile.
        raise ValidationError("A service with this name or slug already exists.") from exc


def service_create(
    *,
    by: Actor,
    name: str,
    slug: str = "",
    type: str = ServiceType.OTHER,
    owner_team: str = "",
    owner_email: str = "",
    runbook_url: str = "",
    tier: int = ServiceTier.TIER_2,
    description: str = "",
) -> Service:
    """Add a catalog entry; the slug defaults to the slugified name."""
    by.require(ADD_PERMISSION, "add services")
    name = (name or "").strip()
    service = Service(
        name=name,
        slug=slug or slugify(name),
        type=type,
        owner_team=owner_team,
        owner_email=owner_email,
        runbook_url=runbook_url,
        tier=tier,
        description=description,
    )
    _save(service)
    return service


def service_update(*, service: Service, by: Actor, changes: dict[str, Any]) -> Service:
    by.require(CHANGE_PERMISSION, "edit services")
    unknown = set(changes) - set(SERVICE_FIELDS)
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in sorted(unknown)})
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        regroup = any(
            changes.get(f, getattr(locked, f)) != getattr(locked, f) for f in ("type", "owner_team")
        )
        for field, value in changes.items():
            setattr(locked, field, value.strip() if field == "name" else value)
        _save(locked)
        if regroup:
            services_regrouped([locked.pk])
    return locked


def service_delete(*, by: Actor, service: Service) -> None:
    """Remove a catalog entry. Incidents, actions and post-mortems keep their rows without it;
    alerts, rules and sources that named it keep theirs with no service."""
    by.require("incidents.delete_service", "delete services")
    with transaction.atomic():
        incident_ids = list(
            Incident.services.through.objects.filter(service=service).values_list("incident_id", flat=True)
        )
        service.delete()
        service_removed(incident_ids)


PRIORITY_FIELDS = ("name", "description", "response_target", "resolution_target", "update_interval")


def priority_update(*, priority: Priority, by: Actor, changes: dict[str, Any]) -> Priority:
    """Edit a priority's name and targets; the code (P1..P5) is fixed. Incidents keep the due times
    stored on them; the new targets apply when an incident's priority is next set."""
    by.require("incidents.change_priority", "edit priorities")
    unknown = set(changes) - set(PRIORITY_FIELDS)
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in sorted(unknown)})
    with transaction.atomic():
        locked = Priority.objects.select_for_update().get(pk=priority.pk)
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.full_clean()
        locked.save(update_fields=list(changes))
    return locked
