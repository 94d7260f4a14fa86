from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from common.actor import Actor
from common.events import Happening, happening_publish, happenings_publish
from common.json_rows import rows_insert
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent

CHANGE_PERMISSION = "incidents.change_incident"


def timeline_event_record(
    *,
    incident: Incident,
    kind: EventKind,
    by: Actor,
    message: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    """Append one event, and tell the apps above (common.events). Callers run inside the
    transaction of the change being recorded."""
    event = TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        occurred_at=at or timezone.now(),
        actor=by.user,
        actor_name=str(by),
        source=by.source,
        message=message,
        details=details or {},
    )
    happening_publish(
        Happening(
            topic="incident",
            kind=kind,
            by=by,
            at=event.occurred_at,
            message=message,
            details=event.details,
            incident_id=incident.pk,
            subject_id=event.pk,
        )
    )
    return event


@dataclass(frozen=True)
class TimelineEntry:
    """One event for `timeline_events_record`: the arguments of `timeline_event_record`."""

    incident: Incident
    kind: EventKind
    by: Actor
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


def timeline_events_record(*, entries: Sequence[TimelineEntry]) -> list[TimelineEvent]:
    """Append many events with one INSERT (a batch of alerts joining incidents), then tell the apps
    above of them together (common.events.happenings_publish): each, in order, as `timeline_event_record`
    would, or all in one call to a listener that takes many. Callers run inside the transaction of
    the changes being recorded."""
    if not entries:
        return []
    now = timezone.now()
    events = [
        TimelineEvent(
            incident=entry.incident,
            kind=entry.kind,
            occurred_at=entry.at or now,
            actor=entry.by.user,
            actor_name=str(entry.by),
            source=entry.by.source,
            message=entry.message,
            details=entry.details or {},
        )
        for entry in entries
    ]
    if connection.vendor == "postgresql":
        rows_insert(events)  # One JSON document, not an array per column (common.json_rows).
    else:
        TimelineEvent.objects.bulk_create(events)
    # Together: a listener may send one message for them all (common.events).
    happenings_publish(
        [
            Happening(
                topic="incident",
                kind=entry.kind,
                by=entry.by,
                at=event.occurred_at,
                message=entry.message,
                details=event.details,
                incident_id=entry.incident.pk,
                subject_id=event.pk,
            )
            for entry, event in zip(entries, events, strict=True)
        ]
    )
    return events


def incident_note_add(*, incident: Incident, by: Actor, message: str) -> TimelineEvent:
    """A free-text note from a responder: findings, decisions, hand-overs."""
    by.require(CHANGE_PERMISSION, "add notes to incidents")
    message = message.strip()
    if not message:
        raise ValidationError({"message": ["A note needs some text."]})
    with transaction.atomic():
        return timeline_event_record(incident=incident, kind=EventKind.NOTE, by=by, message=message)


def field_change_record(
    *,
    incident: Incident,
    by: Actor,
    kind: EventKind,
    field: str,
    old: Any,
    new: Any,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> TimelineEvent:
    """One event for a change of a field that matters (priority, assignee, phase); values plain."""
    label = Incident._meta.get_field(field).verbose_name.capitalize()
    message = f"{label} changed from {old or 'none'} to {new or 'none'}."
    return timeline_event_record(
        incident=incident,
        kind=kind,
        by=by,
        message=f"{message} {note}" if note else message,
        details={"field": field, "from": old, "to": new, **(details or {})},
    )


def timeline_event_pin(*, event: TimelineEvent, by: Actor, pinned: bool) -> TimelineEvent:
    """Star (or unstar) a key moment; pinned events lead the post-mortem's timeline. The event itself
    stays as recorded: only the pin, who set it and when, change. Pinning twice changes nothing."""
    by.require(CHANGE_PERMISSION, "pin timeline events")
    with transaction.atomic():
        locked = TimelineEvent.objects.select_for_update().get(pk=event.pk)
        if locked.pinned != pinned:
            locked.pinned = pinned
            locked.pinned_by = by.user if pinned else None
            locked.pinned_at = timezone.now() if pinned else None
            locked.save(update_fields=["pinned", "pinned_by", "pinned_at"])
    return locked
