"""Status transitions. Each locks the incident row, checks it is still in the state the caller saw,
applies the django-fsm transition and writes its timeline event in the same transaction."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from common.actor import Actor
from common.exceptions import PermissionDeniedError, TransitionNotAllowedError
from common.fsm import locked_transition, row_lock
from incidents.choices import WORK_PHASES, DismissalReason, EventKind, IncidentStatus, Phase
from incidents.derived import incidents_changed
from incidents.guards import CloseRefusal, close_refusal
from incidents.models import Incident
from incidents.models.incident import most_urgent
from incidents.services.sla import sla_breaches_record, sla_next_update_schedule
from incidents.services.timeline import timeline_event_record
from incidents.signals import incident_transitioned

VERBS = {
    "acknowledge": "acknowledge",
    "hold": "put on hold",
    "resume": "resume",
    "resolve": "resolve",
    "reopen": "reopen",
    "close": "close",
    "dismiss": "dismiss",
    "auto_resolve": "auto-resolve",
}


class CloseRefusedError(TransitionNotAllowedError):
    """A close guard refused: the API body carries the record to finish (`postmortem`) and the
    admin page that fixes it (`fix_url`); the admin links to it."""

    def __init__(self, refusal: CloseRefusal, *, status: str):
        super().__init__(
            refusal.reason, extra={"status": status, "transition": "close", **refusal.api_extra()}
        )
        self.refusal = refusal


def incident_lock(*, incident: Incident) -> Incident:
    """Reload the incident under a row lock; a status other than the caller's is a lost race."""
    # Only the incident's row: the priority row is shared by every incident of that priority (the
    # sweeper skips locked rows and would skip all of them).
    return row_lock(instance=incident, related=("priority",), stale=_stale)


def _stale(locked: Incident) -> str:
    return (
        f"{locked.reference} changed while you were looking at it: it is now "
        f"{locked.get_status_display().lower()}. Reload and try again."
    )


def _transition(
    *,
    incident: Incident,
    by: Actor,
    name: str,
    kind: EventKind,
    message: str,
    details: dict[str, Any] | None = None,
    apply: Callable[[Incident], None] | None = None,
) -> Incident:
    def refused(locked: Incident) -> TransitionNotAllowedError:
        # A guard that started refusing since the caller's check (a post-mortem sent back to draft
        # meanwhile) still gives its reason and link.
        if (
            name == "close"
            and can_proceed(locked.close, check_conditions=False)
            and (refusal := close_refusal(locked)) is not None
        ):
            return CloseRefusedError(refusal, status=locked.status)
        return TransitionNotAllowedError(
            f"Cannot {VERBS[name]} {locked.reference}: it is {locked.get_status_display().lower()}.",
            extra={"status": locked.status, "transition": name},
        )

    def record(locked: Incident, from_status: str) -> None:
        incidents_changed([locked.pk])
        timeline_event_record(
            incident=locked,
            kind=kind,
            by=by,
            message=message,
            details={"from": from_status, "to": locked.status, **(details or {})},
        )
        transaction.on_commit(lambda: incident_transitioned.send(Incident, incident=locked, transition=name))

    return locked_transition(
        instance=incident,
        name=name,
        by=by,
        related=("priority",),
        stale=_stale,
        refused=refused,
        denied=f"{VERBS[name]} incidents",
        before=lambda locked: sla_breaches_record(incident=locked, now=timezone.now()),
        apply=apply,
        record=record,
        conflict=f"{incident.reference} was changed by someone else. Reload and try again.",
    )


def _required(field: str, value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [f"{what} is required."]})
    return value


def incident_acknowledge(*, incident: Incident, by: Actor) -> Incident:
    # Triage is over: the work starts at investigating. The triage phase it left goes to the
    # event's `details`, so triage durations read from the timeline like work phases do.
    details: dict[str, Any] = {}

    def apply(locked: Incident) -> None:
        now = timezone.now()
        if locked.acknowledged_at is None:
            locked.acknowledged_at = now
        if locked.assignee_id is None and by.user is not None:
            locked.assignee = by.user
        if locked.phase not in WORK_PHASES:
            details["phase"] = {"from": locked.phase, "to": Phase.INVESTIGATING}
            locked.phase = Phase.INVESTIGATING
        sla_next_update_schedule(incident=locked, since=now)

    return _transition(
        incident=incident,
        by=by,
        name="acknowledge",
        kind=EventKind.ACKNOWLEDGED,
        message=f"Acknowledged by {by}.",
        details=details,
        apply=apply,
    )


def incident_hold(*, incident: Incident, by: Actor, reason: str) -> Incident:
    reason = _required("reason", reason, "A reason for holding")
    return _transition(
        incident=incident,
        by=by,
        name="hold",
        kind=EventKind.HELD,
        message=f"Put on hold: {reason}",
        details={"reason": reason},
    )


def incident_resume(*, incident: Incident, by: Actor) -> Incident:
    return _transition(
        incident=incident, by=by, name="resume", kind=EventKind.RESUMED, message=f"Resumed by {by}."
    )


def _resolved(summary: str, details: dict[str, Any]) -> Callable[[Incident], None]:
    """Stop the clocks and the work: a resolved incident claims no work phase. The phase it ended
    in goes to the event's `details`, so phase durations still read from the timeline."""

    def apply(locked: Incident) -> None:
        locked.resolved_at = timezone.now()
        locked.resolution_summary = summary
        locked.next_update_due_at = None
        details["phase"] = {"from": locked.phase, "to": ""}
        locked.phase = ""
        locked.peak_priority = most_urgent(locked.peak_priority, locked.priority.code)

    return apply


def incident_resolve(*, incident: Incident, by: Actor, summary: str) -> Incident:
    summary = _required("summary", summary, "A resolution summary")
    details: dict[str, Any] = {"summary": summary}
    return _transition(
        incident=incident,
        by=by,
        name="resolve",
        kind=EventKind.RESOLVED,
        message=f"Resolved: {summary}",
        details=details,
        apply=_resolved(summary, details),
    )


def _auto_resolved(summary: str, details: dict[str, Any]) -> Callable[[Incident], None]:
    def apply(locked: Incident) -> None:
        _resolved(summary, details)(locked)
        locked.auto_resolved = True

    return apply


def incident_auto_resolve(
    *, incident: Incident, by: Actor, summary: str, details: dict[str, Any] | None = None
) -> Incident:
    """Resolution by automation (an alert cleared after a remediation); never by a person."""
    if by.user is not None:
        raise PermissionDeniedError("Only automation can auto-resolve an incident.")
    summary = _required("summary", summary, "A resolution summary")
    details = {"summary": summary, "automated": True, **(details or {})}
    return _transition(
        incident=incident,
        by=by,
        name="auto_resolve",
        kind=EventKind.AUTO_RESOLVED,
        message=f"Resolved automatically: {summary}",
        details=details,
        apply=_auto_resolved(summary, details),
    )


def incident_reopen(*, incident: Incident, by: Actor, reason: str) -> Incident:
    reason = _required("reason", reason, "A reason for reopening")

    # It recurred: the work starts over from investigating. The peak priority stays.
    details: dict[str, Any] = {"reason": reason, "phase": {"from": "", "to": Phase.INVESTIGATING}}

    def apply(locked: Incident) -> None:
        now = timezone.now()
        locked.reopen_count += 1
        locked.resolved_at = None
        locked.auto_resolved = False
        details["phase"]["from"] = locked.phase
        locked.phase = Phase.INVESTIGATING
        sla_next_update_schedule(incident=locked, since=now)

    return _transition(
        incident=incident,
        by=by,
        name="reopen",
        kind=EventKind.REOPENED,
        message=f"Reopened: {reason}",
        details=details,
        apply=apply,
    )


def incident_close(*, incident: Incident, by: Actor, note: str = "") -> Incident:
    """Close a resolved incident once no close guard refuses (a P1 or P2 needs its post-mortem in
    review or published). The guards are the transition's condition, checked again under the
    lock; this check gives the reason and the link to what needs doing."""
    note = (note or "").strip()
    if incident.status == IncidentStatus.RESOLVED:
        # A fresh read: the caller's object may have cached "no post-mortem" before one was written.
        refusal = close_refusal(Incident.objects.select_related("priority").get(pk=incident.pk))
        if refusal is not None:
            raise CloseRefusedError(refusal, status=incident.status)

    def apply(locked: Incident) -> None:
        locked.closed_at = timezone.now()

    return _transition(
        incident=incident,
        by=by,
        name="close",
        kind=EventKind.CLOSED,
        message=f"Closed: {note}" if note else f"Closed by {by}.",
        details={"note": note} if note else None,
        apply=apply,
    )


def incident_dismiss(
    *,
    incident: Incident,
    by: Actor,
    reason: str,
    dismissal_reason: str = DismissalReason.FALSE_ALARM,
    duplicate_of: Incident | None = None,
) -> Incident:
    """Close a new incident that needs no work: a false alarm, or a duplicate of another one."""
    reason = _required("reason", reason, "A reason for dismissing")
    if dismissal_reason not in DismissalReason.values:
        raise ValidationError({"dismissal_reason": [f"Choose one of {', '.join(DismissalReason.values)}."]})
    if dismissal_reason == DismissalReason.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": ["Name the incident this one duplicates."]})
        if duplicate_of.pk == incident.pk:
            raise ValidationError({"duplicate_of": ["An incident cannot duplicate itself."]})
    elif duplicate_of is not None:
        raise ValidationError({"duplicate_of": ["Only a duplicate names another incident."]})

    details: dict[str, Any] = {"reason": reason, "dismissal_reason": dismissal_reason}

    def apply(locked: Incident) -> None:
        locked.closed_at = timezone.now()
        locked.dismissal_reason = dismissal_reason
        locked.duplicate_of = duplicate_of
        # Closed without work: it leaves its triage phase like a resolution leaves a work phase.
        details["phase"] = {"from": locked.phase, "to": ""}
        locked.phase = ""

    label = DismissalReason(dismissal_reason).label.lower()
    if duplicate_of is not None:
        details["duplicate_of"] = duplicate_of.reference
        label = f"duplicate of {duplicate_of.reference}"
    return _transition(
        incident=incident,
        by=by,
        name="dismiss",
        kind=EventKind.DISMISSED,
        message=f"Dismissed as {label}: {reason}",
        details=details,
        apply=apply,
    )


TRANSITION_SERVICES: dict[str, Callable[..., Incident]] = {
    "acknowledge": incident_acknowledge,
    "hold": incident_hold,
    "resume": incident_resume,
    "resolve": incident_resolve,
    "reopen": incident_reopen,
    "close": incident_close,
    "dismiss": incident_dismiss,
}
