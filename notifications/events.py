"""Which happenings of the apps below (common.events) become notifications, and under which kind.

The listener runs inside the publisher's transaction: it only names the event and enqueues its
routing after commit, so an incident change never waits on (or fails for) its notifications.
Events published together (a batch of alerts joining incidents) go in one routing message per
ROUTE_CHUNK events: a message per event cost a quarter of a joining batch's time."""

import uuid
from collections.abc import Sequence
from typing import Any

from common.events import Happening
from common.tasks import enqueue_on_commit
from notifications.choices import EventKind

ROUTE_TASK = "notifications.tasks.event_route"
ROUTE_MANY_TASK = "notifications.tasks.events_route"
ROUTE_CHUNK = 100  # Events per message: bounds a message's size (each carries its alert's labels).

INCIDENT_KINDS = {
    "created": EventKind.INCIDENT_OPENED,
    "acknowledged": EventKind.ACKNOWLEDGED,
    "priority_changed": EventKind.PRIORITY_CHANGED,
    "role_assigned": EventKind.ROLE_ASSIGNED,
    "update_overdue": EventKind.UPDATE_OVERDUE,
    "alert_attached": EventKind.ALERT_JOINED,
    "resolved": EventKind.RESOLVED,
    "auto_resolved": EventKind.RESOLVED,
    "reopened": EventKind.REOPENED,
    "closed": EventKind.CLOSED,
    "dismissed": EventKind.CLOSED,
}


def event_kind_of(happening: Happening) -> EventKind | None:
    """The notification kind of a happening, or None when nobody is told of it."""
    details = happening.details
    if happening.topic == "incident":
        if happening.kind == "status_update":
            public = details.get("visibility") == "public"
            return EventKind.UPDATE_PUBLIC if public else EventKind.UPDATE_INTERNAL
        if happening.kind == "sla_breached":
            response = details.get("target") == "response"
            return EventKind.SLA_RESPONSE_BREACHED if response else EventKind.SLA_RESOLUTION_BREACHED
        if happening.kind == "postmortem":
            return EventKind.POSTMORTEM_PUBLISHED if details.get("status") == "published" else None
        return INCIDENT_KINDS.get(happening.kind)
    if happening.topic == "run":
        if happening.kind == "action_requested" and details.get("needs_approval"):
            return EventKind.RUN_AWAITING_APPROVAL
        if happening.kind == "action_finished":
            return {"failed": EventKind.RUN_FAILED, "timed_out": EventKind.RUN_TIMED_OUT}.get(
                details.get("status")
            )
    return None


def event_as_json(happening: Happening, kind: EventKind) -> dict[str, Any]:
    return {
        "key": uuid.uuid4().hex,
        "kind": str(kind),
        "topic": happening.topic,
        "source_kind": str(happening.kind),
        "incident": happening.incident_id,
        "run": happening.subject_id if happening.topic == "run" else None,
        "message": happening.message,
        "details": happening.details,
        "at": happening.at.isoformat(),
        "by": str(happening.by),
        "by_user": happening.by.user.pk if happening.by.user is not None else None,
    }


def happening_heard(happening: Happening) -> None:
    kind = event_kind_of(happening)
    if kind is not None:
        enqueue_on_commit(ROUTE_TASK, event=event_as_json(happening, kind))


def happenings_heard(happenings: Sequence[Happening]) -> None:
    """Happenings published together: the events among them, in order, routed by one message per
    ROUTE_CHUNK (a lone event by the message `happening_heard` sends). One on-commit callback per
    message, registered where they were recorded: a rolled-back savepoint drops it with them."""
    events = [
        event_as_json(happening, kind)
        for happening in happenings
        if (kind := event_kind_of(happening)) is not None
    ]
    if len(events) == 1:
        enqueue_on_commit(ROUTE_TASK, event=events[0])
        return
    for start in range(0, len(events), ROUTE_CHUNK):
        enqueue_on_commit(ROUTE_MANY_TASK, events=events[start : start + ROUTE_CHUNK])
