"""Telling a drill's participants it has begun: a "drill_started" event for the notification rules
that subscribe to it (a team channel, say), and a delivery to each participant's contact methods,
all through the notifications ledger (sent once, retried, visible in its admin)."""

import uuid

from django.utils import timezone

from common.tasks import enqueue_on_commit
from drills.models import DrillRun
from notifications.choices import ContactKind, EventKind
from notifications.services.routing import deliveries_create, person_recipients


def participants_notify(*, run: DrillRun) -> int:
    """Returns how many deliveries to participants were created (the rules' come after commit)."""
    scenario = run.scenario
    event = {
        "key": f"drill:{run.pk}:{uuid.uuid4().hex}",
        "kind": str(EventKind.DRILL_STARTED),
        "topic": "drill",
        "source_kind": "drill_started",
        "incident": run.incident_id,
        "run": None,
        "message": f"Drill #{run.pk} of {scenario.name!r} ({scenario.get_kind_display()}) has started.",
        "details": {"drill_run": run.pk, "scenario": scenario.name, "kind": scenario.kind},
        "at": timezone.now().isoformat(),
        "by": "drills",
        "by_user": None,
    }
    planned = [
        (None, recipient)
        for user in run.participants.filter(is_active=True).prefetch_related("contact_methods")
        for recipient in person_recipients(user, list(ContactKind.values))
    ]
    created = deliveries_create(event=event, incident=run.incident, planned=planned) if planned else []
    enqueue_on_commit("notifications.tasks.event_route", event=event)
    return len(created)
