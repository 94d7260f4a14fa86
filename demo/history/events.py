"""The generated incidents' timelines, and how to find and remove the generated rows."""

from django.db import transaction

from actions.models import ActionRun
from alerts.models import Alert
from common.actor import Source
from demo.history.data import MARKER, S
from demo.history.plans import IncidentPlan
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent
from postmortems.models import Postmortem


def timeline_events(incident: Incident, plan: IncidentPlan, users: list) -> list[TimelineEvent]:
    """The transitions' timeline, shaped like the services write it (details from/to)."""
    person = users[plan.assignee] if plan.assignee is not None else None
    events = []

    def add(kind, at, message, details, by=None, name="", source=Source.SYSTEM):
        events.append(
            TimelineEvent(
                incident=incident,
                kind=kind,
                occurred_at=at,
                actor=by,
                actor_name=name or (by.get_username() if by else "system"),
                source=source,
                message=message,
                details=details,
            )
        )

    origin = "alertmanager" if plan.alerts else ""
    add(
        EventKind.CREATED,
        plan.detected_at,
        f"Incident declared: {plan.title}",
        {"priority": plan.priority, "services": plan.services, "is_drill": plan.is_drill},
        by=None if origin else person,
        name=origin,
        source=Source.SYSTEM if origin else Source.ADMIN,
    )
    if plan.dismissal_reason:
        add(
            EventKind.DISMISSED,
            plan.closed_at,
            "Dismissed as a false alarm.",
            {"from": S.NEW, "to": S.CLOSED, "reason": plan.dismissal_reason},
            by=person,
            source=Source.ADMIN,
        )
        return events
    if plan.auto_resolved:
        add(
            EventKind.AUTO_RESOLVED,
            plan.resolved_at,
            "Resolved by automation: the alerts cleared.",
            {"from": S.NEW, "to": S.RESOLVED},
            name="auto-remediation",
            source=Source.TASK,
        )
    else:
        add(
            EventKind.ACKNOWLEDGED,
            plan.acknowledged_at,
            "Acknowledged.",
            {"from": S.NEW, "to": S.IN_PROGRESS},
            by=person,
            source=Source.ADMIN,
        )
        if plan.reopened_at is not None:
            add(
                EventKind.RESOLVED,
                plan.first_resolved_at,
                "Resolved.",
                {"from": S.IN_PROGRESS, "to": S.RESOLVED},
                by=person,
                source=Source.ADMIN,
            )
            add(
                EventKind.REOPENED,
                plan.reopened_at,
                "Reopened: it came back.",
                {"from": S.RESOLVED, "to": S.IN_PROGRESS},
                by=person,
                source=Source.ADMIN,
            )
        add(
            EventKind.RESOLVED,
            plan.resolved_at,
            "Resolved.",
            {"from": S.IN_PROGRESS, "to": S.RESOLVED},
            by=person,
            source=Source.ADMIN,
        )
    if plan.closed_at is not None:
        add(
            EventKind.CLOSED,
            plan.closed_at,
            "Closed.",
            {"from": S.RESOLVED, "to": S.CLOSED},
            by=person,
            source=Source.ADMIN,
        )
    return events


def history_incidents():
    """The generated incidents, told apart from everyone else's by MARKER."""
    return Incident.objects.filter(description__startswith=MARKER)


def history_exists() -> bool:
    return history_incidents().exists()


def history_clear() -> dict[str, int]:
    """Delete the generated incidents and what hangs off them (alerts, runs, post-mortems with their
    action items, timelines). The catalog rows it added (services, responders, actions, the source)
    stay: other rows may refer to them by now."""
    generated = history_incidents()
    with transaction.atomic():
        counts = {
            "alerts": Alert.objects.filter(incident__in=generated).delete()[0],
            "runs": ActionRun.objects.filter(incident__in=generated).delete()[0],
        }
        _, deleted = Postmortem.objects.filter(incident__in=generated).delete()
        counts["postmortems"] = deleted.get(Postmortem._meta.label, 0)
        _, deleted = generated.delete()
        counts["incidents"] = deleted.get(Incident._meta.label, 0)
    return counts
