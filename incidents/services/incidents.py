"""Opening incidents and editing their details (everything but status)."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.actor import Actor
from incidents.choices import EventKind, IncidentStatus, Phase, Role
from incidents.derived import incidents_changed
from incidents.guards import close_refusal
from incidents.models import Incident, Priority, Service
from incidents.models.incident import most_urgent
from incidents.services.phases import phase_check
from incidents.services.references import reference_for
from incidents.services.repeats import incident_repeat_mark
from incidents.services.roles import role_change_apply
from incidents.services.sla import sla_targets_apply
from incidents.services.timeline import field_change_record, timeline_event_record

ADD_PERMISSION = "incidents.add_incident"
CHANGE_PERMISSION = "incidents.change_incident"
AFTER_RESOLUTION = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
# Clocks drift; a detection time a little ahead of ours is still plausible.
CLOCK_SKEW = timedelta(minutes=5)

# Fields a responder may edit after creation; status and the timestamps it drives are not here.
EDITABLE_FIELDS = (
    "title",
    "description",
    "priority",
    "services",
    "assignee",
    "commander",
    "phase",
    "root_cause_category",
    "users_affected",
    "services_down",
    "data_at_risk",
    "security_issue",
    "is_drill",
    "started_at",
    "bridge_url",
)


def incident_create(
    *,
    by: Actor,
    title: str,
    priority: Priority,
    description: str = "",
    services: Iterable[Service] = (),
    assignee: AbstractBaseUser | None = None,
    commander: AbstractBaseUser | None = None,
    detected_at: datetime | None = None,
    started_at: datetime | None = None,
    users_affected: str = "",
    services_down: int = 0,
    data_at_risk: bool = False,
    security_issue: bool = False,
    is_drill: bool = False,
    root_cause_category: str = "",
    bridge_url: str = "",
    mark_repeat: bool = True,
) -> Incident:
    """Open an incident in triage, with its SLA due times, reference and `created` event.
    `mark_repeat=False` is for a caller that links what decides a repeat (alerts) in the same
    transaction and marks it then (incident_repeat_mark), rather than twice."""
    by.require(ADD_PERMISSION, "open incidents")
    now = timezone.now()
    detected_at = detected_at or now
    if detected_at > now + CLOCK_SKEW:
        raise ValidationError({"detected_at": ["Detection cannot be in the future."]})
    incident = Incident(
        # One line: titles go into email subjects and table cells.
        title=" ".join((title or "").split()),
        description=description,
        priority=priority,
        # Every incident starts in triage; prioritizing and acknowledging move it on.
        phase=Phase.TRIAGE,
        assignee=assignee,
        commander=commander,
        created_by=by.user,
        detected_at=detected_at,
        started_at=started_at or detected_at,
        users_affected=users_affected,
        services_down=services_down,
        data_at_risk=data_at_risk,
        security_issue=security_issue,
        is_drill=is_drill,
        root_cause_category=root_cause_category,
        bridge_url=bridge_url,
    )
    _validate(incident)
    services = list(services)
    with transaction.atomic():
        # The year in the configured TIME_ZONE, whatever offset the caller sent the time with.
        reference_for(incident=incident, year=timezone.localtime(detected_at).year)
        sla_targets_apply(incident=incident, now=now)
        incident.save()
        if services:
            incident.services.set(services)
        if mark_repeat and services:  # A repeat shares a service with its precedent: none, none.
            incident_repeat_mark(incident=incident)
        incidents_changed([incident.pk])
        details: dict[str, Any] = {
            "priority": priority.code,
            "phase": incident.phase,
            "services": [s.slug for s in services],
            "is_drill": is_drill,
        }
        if by.label:
            details["origin"] = by.label
        for field in ("assignee", "commander"):
            user = getattr(incident, field)
            if user is not None:
                details[field] = user.get_username()
        timeline_event_record(
            incident=incident,
            kind=EventKind.CREATED,
            by=by,
            message=f"{priority.code} incident opened: {incident.title}",
            details=details,
            at=now,
        )
    return incident


def _validate(incident: Incident) -> None:
    """full_clean, with the impact-before-detection rule reported on started_at: the database
    constraint alone would only say "constraint violated", against no field."""
    errors: dict[str, list[str]] = {}
    started, detected = incident.started_at, incident.detected_at
    both_times = isinstance(started, datetime) and isinstance(detected, datetime)
    if both_times and started > detected:
        errors["started_at"] = ["The impact cannot start after it was detected."]
    # A priority loaded from the database exists: no query to check it again.
    priority = incident._state.fields_cache.get("priority")  # Unset: no instance, and no query.
    loaded = (
        ["priority"]
        if isinstance(priority, Priority)
        and priority.pk == incident.priority_id
        and not priority._state.adding
        else []
    )
    try:
        # A field already in error is excluded, and with it the constraint that reads it. The one
        # constraint is checked above, in Python, with a field to report on; another one added
        # later is validated by its query again.
        incident.full_clean(
            exclude=["reference", "status", *loaded, *errors],
            validate_constraints=not both_times or _constraints_unchecked(),
        )
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


CHECKED_IN_PYTHON = {"incidents_incident_started_before_detected"}


def _constraints_unchecked() -> bool:
    return {constraint.name for constraint in Incident._meta.constraints} != CHECKED_IN_PYTHON


def _plain(value: Any) -> Any:
    """A JSON-safe rendering of a field value for timeline details."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Priority):
        return value.code
    if isinstance(value, AbstractBaseUser):
        return value.get_username()
    return value


def incident_update(*, incident: Incident, by: Actor, changes: dict[str, Any]) -> Incident:
    """Apply a partial edit and record what changed: priority, assignee, phase and roles get their
    own timeline events, anything else one `updated` event listing the fields."""
    by.require(CHANGE_PERMISSION, "edit incidents")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in sorted(unknown)})

    now = timezone.now()
    with transaction.atomic():
        locked = (
            Incident.objects.select_for_update(of=("self",)).select_related("priority").get(pk=incident.pk)
        )
        if "phase" in changes:
            phase_check(status=locked.status, phase=changes["phase"])
        new_services = changes.get("services")
        old_services = list(locked.services.all()) if new_services is not None else []
        commander_given = "commander" in changes

        diff: dict[str, tuple[Any, Any]] = {}
        for field, value in changes.items():
            if field in ("services", "commander"):
                continue
            old = getattr(locked, field)
            if old != value:
                diff[field] = (old, value)
                setattr(locked, field, value)
        if new_services is not None and {s.pk for s in old_services} != {s.pk for s in new_services}:
            diff["services"] = ([s.slug for s in old_services], [s.slug for s in new_services])

        _validate(locked)
        if "priority" in diff:
            _priority_after_resolution(locked)
            sla_targets_apply(incident=locked, now=now)
        locked.save()
        if "services" in diff:
            locked.services.set(new_services)
        if "services" in diff or "root_cause_category" in diff:
            incident_repeat_mark(incident=locked)
        incidents_changed([locked.pk])
        if commander_given:
            role_change_apply(incident=locked, by=by, role=Role.COMMANDER, user=changes["commander"])
        _record_changes(incident=locked, by=by, diff=diff)
    return locked


def _priority_after_resolution(incident: Incident) -> None:
    """A priority change once the incident was resolved (not a dismissed one, never resolved):
    the peak priority keeps the most urgent one, so lowering it does not lift the rules closing
    applies (a P1/P2 needs its post-mortem). A closed incident must still meet them: raising a
    closed P3 to P1 without a post-mortem in review is refused."""
    if incident.status not in AFTER_RESOLUTION or incident.resolved_at is None:
        return
    incident.peak_priority = most_urgent(incident.peak_priority, incident.priority.code)
    if incident.status == IncidentStatus.CLOSED and (refusal := close_refusal(incident)) is not None:
        raise ValidationError(
            {
                "priority": [
                    f"{incident.reference} is closed and would no longer meet what closing needs: "
                    f"{refusal.reason}"
                ]
            }
        )


def _record_changes(*, incident: Incident, by: Actor, diff: dict[str, tuple[Any, Any]]) -> None:
    own_events = {
        "priority": EventKind.PRIORITY_CHANGED,
        "assignee": EventKind.ASSIGNEE_CHANGED,
        "phase": EventKind.PHASE_CHANGED,
    }
    for field, kind in own_events.items():
        if field not in diff:
            continue
        old, new = (_plain(v) for v in diff.pop(field))
        note, details = "", None
        if field == "priority" and incident.status in AFTER_RESOLUTION and incident.peak_priority:
            details = {"status": incident.status, "peak_priority": incident.peak_priority}
            if incident.peak_priority != new:
                note = (
                    f"It was {incident.peak_priority} after resolution: closing still needs what "
                    f"{incident.peak_priority} needs."
                )
        field_change_record(
            incident=incident, by=by, kind=kind, field=field, old=old, new=new, note=note, details=details
        )
    if diff:
        timeline_event_record(
            incident=incident,
            kind=EventKind.UPDATED,
            by=by,
            message=f"Updated {', '.join(sorted(diff))}.",
            details={
                "fields": sorted(diff),
                "changes": {f: {"from": _plain(o), "to": _plain(n)} for f, (o, n) in diff.items()},
            },
        )
