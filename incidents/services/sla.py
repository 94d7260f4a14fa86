"""The SLA clock: due times stored on the incident, and a sweeper that records each breach once."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common.actor import Actor, Source
from incidents.choices import EventKind, IncidentStatus, SlaTarget
from incidents.models import Incident
from incidents.selectors import incident_last_update_at, incident_sla_candidates
from incidents.services.timeline import timeline_event_record

logger = logging.getLogger(__name__)
SWEEPER = Actor.system(source=Source.TASK, label="sla-sweeper")
WORKING = (IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD)


def sla_targets_apply(*, incident: Incident, now: datetime) -> None:
    """Set the due times from the incident's priority. Callers save the incident.

    A target that moves into the future (say, after lowering the priority) is no longer breached,
    so its breach mark is cleared and a later breach is recorded again.
    """
    priority = incident.priority
    incident.response_due_at = (
        incident.detected_at + priority.response_target if priority.response_target else None
    )
    incident.resolution_due_at = (
        incident.detected_at + priority.resolution_target if priority.resolution_target else None
    )
    if incident.response_due_at is None or incident.response_due_at > now:
        incident.response_breached_at = None
    if incident.resolution_due_at is None or incident.resolution_due_at > now:
        incident.resolution_breached_at = None
    if incident.status in WORKING:
        since = incident_last_update_at(incident=incident) or incident.acknowledged_at or now
        sla_next_update_schedule(incident=incident, since=since)
    else:
        incident.next_update_due_at = None


def sla_next_update_schedule(*, incident: Incident, since: datetime) -> None:
    """The next status update is due one interval after `since` while the incident is worked."""
    interval = incident.priority.update_interval
    if incident.status in WORKING and interval:
        incident.next_update_due_at = since + interval
    else:
        incident.next_update_due_at = None


def incident_sla_sweep(*, now: datetime | None = None) -> int:
    """Record every SLA breach and overdue update not yet recorded; returns how many it recorded.

    Safe to run concurrently and repeatedly: each incident is re-checked under its row lock and
    its breach marks make a second run a no-op.
    """
    now = now or timezone.now()
    recorded = 0
    for incident_id in incident_sla_candidates(now=now).values_list("id", flat=True):
        with transaction.atomic():
            incident = (
                Incident.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("priority")
                .filter(pk=incident_id)
                .first()
            )
            if incident is None:  # Being changed right now; the next sweep looks again.
                continue
            count = sla_breaches_record(incident=incident, now=now)
        if count:
            logger.info("Recorded %d SLA event(s) on %s", count, incident.reference)
        recorded += count
    return recorded


def _update_reminder_due(incident: Incident, now: datetime) -> datetime | None:
    """When the overdue status update is due to be recorded (and so reminded of) again, if by now:
    first at the due time, then once per update interval until an update is posted. A sweeper
    that was down catches up with one reminder, not a burst."""
    due = incident.next_update_due_at
    if incident.status not in WORKING or due is None or due > now:
        return None
    interval = incident.priority.update_interval
    last = incident.update_overdue_for
    if last is None or last < due:
        last = due
    elif not interval or last + interval > now:
        return None
    # The latest reminder time by now: a sweep that finds the update long overdue (or a sweeper
    # that was down) reminds once, then keeps the interval from there.
    return last + interval * int((now - last) / interval) if interval else last


def sla_breaches_record(*, incident: Incident, now: datetime) -> int:
    """Record the breaches due on a locked incident in its current state. The sweeper calls it, and
    so does every change of state before it happens, so a breach the sweeper missed (worker down)
    still lands on the timeline when someone finally acts."""
    events = []
    changed = []
    if (
        incident.status == IncidentStatus.NEW
        and incident.response_due_at
        and incident.response_due_at <= now
        and incident.response_breached_at is None
    ):
        incident.response_breached_at = now
        changed.append("response_breached_at")
        events.append((EventKind.SLA_BREACHED, SlaTarget.RESPONSE, incident.response_due_at))
    if (
        incident.is_open
        and incident.resolution_due_at
        and incident.resolution_due_at <= now
        and incident.resolution_breached_at is None
    ):
        incident.resolution_breached_at = now
        changed.append("resolution_breached_at")
        events.append((EventKind.SLA_BREACHED, SlaTarget.RESOLUTION, incident.resolution_due_at))
    reminder = _update_reminder_due(incident, now)
    if reminder is not None:
        incident.update_overdue_for = reminder
        changed.append("update_overdue_for")
        events.append((EventKind.UPDATE_OVERDUE, None, incident.next_update_due_at))
    if not changed:
        return 0
    Incident.objects.filter(pk=incident.pk).update(**{f: getattr(incident, f) for f in changed})
    for kind, target, due_at in events:
        if kind == EventKind.SLA_BREACHED:
            label = SlaTarget(target).label.lower()
            message = (
                f"{label.capitalize()} target of {incident.priority.code} missed"
                f" (due {due_at:%Y-%m-%d %H:%M} UTC)."
            )
            details = {"target": target, "due_at": due_at.isoformat(), "priority": incident.priority.code}
        else:
            message = f"Status update overdue (due {due_at:%Y-%m-%d %H:%M} UTC)."
            details = {"due_at": due_at.isoformat(), "priority": incident.priority.code}
            if incident.update_overdue_for != due_at:
                message += f" Still none at {incident.update_overdue_for:%H:%M} UTC."
                details["reminder_at"] = incident.update_overdue_for.isoformat()
        timeline_event_record(
            incident=incident, kind=kind, by=SWEEPER, message=message, details=details, at=now
        )
    return len(events)
