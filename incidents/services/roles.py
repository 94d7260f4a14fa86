from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from common.actor import Actor
from incidents.choices import EventKind, Role
from incidents.models import Incident, RoleAssignment
from incidents.services.timeline import timeline_event_record

CHANGE_PERMISSION = "incidents.change_incident"


def incident_role_assign(
    *, incident: Incident, by: Actor, role: str, user: AbstractBaseUser | None
) -> Incident:
    """Give a response role to a user, or take it away with user=None."""
    by.require(CHANGE_PERMISSION, "change incident roles")
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of {', '.join(Role.values)}."]})
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        role_change_apply(incident=locked, by=by, role=role, user=user)
    return locked


def role_change_apply(*, incident: Incident, by: Actor, role: str, user: AbstractBaseUser | None) -> None:
    """Change one role on a locked incident and record it; a no-op when nothing changes."""
    if role == Role.COMMANDER:
        previous = incident.commander
        if previous == user:
            return
        incident.commander = user
        incident.save(update_fields=["commander", "updated_at"])
    else:
        current = RoleAssignment.objects.filter(incident=incident, role=role).select_related("user").first()
        previous = current.user if current else None
        if previous == user:
            return
        if user is None:
            current.delete()
        elif current is None:
            RoleAssignment.objects.create(incident=incident, role=role, user=user)
        else:
            current.user = user
            current.save(update_fields=["user", "updated_at"])
    label = Role(role).label
    details = {
        "role": role,
        "from": previous.get_username() if previous else None,
        "to": user.get_username() if user else None,
    }
    if user is None:
        kind, message = EventKind.ROLE_UNASSIGNED, f"{label}: {previous.get_username()} stepped down."
    else:
        kind, message = EventKind.ROLE_ASSIGNED, f"{label}: {user.get_username()}."
    timeline_event_record(incident=incident, kind=kind, by=by, message=message, details=details)
