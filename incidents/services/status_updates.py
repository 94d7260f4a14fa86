from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.actor import Actor
from common.exceptions import TransitionNotAllowedError
from incidents.choices import PHASES_BY_STATUS, EventKind, IncidentStatus, Phase, Visibility
from incidents.models import Incident, StatusUpdate
from incidents.services.phases import phase_check
from incidents.services.sla import sla_breaches_record, sla_next_update_schedule
from incidents.services.timeline import field_change_record, timeline_event_record

ADD_PERMISSION = "incidents.add_statusupdate"


def status_update_create(
    *,
    incident: Incident,
    by: Actor,
    message: str,
    visibility: str = Visibility.INTERNAL,
    phase: str = "",
) -> StatusUpdate:
    """Post a progress update; it restarts the update clock and may move the phase on (a triage
    phase while the incident is new, a work phase while it is worked)."""
    by.require(ADD_PERMISSION, "post status updates")
    message = (message or "").strip()
    errors = {}
    if not message:
        errors["message"] = ["A status update needs a message."]
    if visibility not in Visibility.values:
        errors["visibility"] = [f"Choose one of {', '.join(Visibility.values)}."]
    if phase and phase not in Phase.values:
        errors["phase"] = [f"Choose one of {', '.join(Phase.values)}."]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        locked = (
            Incident.objects.select_for_update(of=("self",)).select_related("priority").get(pk=incident.pk)
        )
        if locked.status == IncidentStatus.CLOSED:
            raise TransitionNotAllowedError(f"{locked.reference} is closed: it takes no more updates.")
        phase_check(status=locked.status, phase=phase)
        now = timezone.now()
        sla_breaches_record(incident=locked, now=now)
        update = StatusUpdate.objects.create(
            incident=locked,
            message=message,
            phase=phase or (locked.phase if locked.status in PHASES_BY_STATUS else ""),
            visibility=visibility,
            author=by.user,
        )
        previous_phase = locked.phase
        fields = ["next_update_due_at", "updated_at"]
        if phase and phase != previous_phase:
            locked.phase = phase
            fields.append("phase")
        sla_next_update_schedule(incident=locked, since=now)
        locked.save(update_fields=fields)
        timeline_event_record(
            incident=locked,
            kind=EventKind.STATUS_UPDATE,
            by=by,
            message=message,
            details={"status_update": update.pk, "visibility": visibility, "phase": update.phase},
        )
        if "phase" in fields:
            # Its own event too, so phase durations read the same whichever way the phase moved.
            field_change_record(
                incident=locked,
                by=by,
                kind=EventKind.PHASE_CHANGED,
                field="phase",
                old=previous_phase,
                new=phase,
            )
    return update
