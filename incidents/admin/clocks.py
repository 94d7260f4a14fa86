"""The SLA clocks as the ops home and the war-room header show them. The due times and breach marks
are the ones incidents.services.sla stores on the incident (sla_targets_apply, the sweeper); this
only says which of them still runs, so nothing here computes a target."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from incidents.choices import IncidentStatus
from incidents.models import Incident


@dataclass(frozen=True)
class Clock:
    name: str  # "response" or "resolution": the CSS class and the element id.
    label: str
    due_at: datetime | None
    state: str  # "running", "breached", "met" or "none" (no target, or none running)

    @property
    def breached(self) -> bool:
        return self.state == "breached"


def _clock(name: str, label: str, due_at, breached_at, done_at, running: bool, now: datetime) -> Clock:
    if due_at is None:
        state = "none"
    elif breached_at is not None or (running and due_at <= now):
        # A breach the sweeper has not recorded yet (it runs every minute) is still a breach.
        state = "breached"
    elif done_at is not None or not running:
        state = "met"
    else:
        state = "running"
    return Clock(name=name, label=label, due_at=due_at, state=state)


def sla_clocks(incident: Incident, *, now: datetime | None = None) -> list[Clock]:
    now = now or timezone.now()
    return [
        _clock(
            "response",
            "Response",
            incident.response_due_at,
            incident.response_breached_at,
            incident.acknowledged_at,
            incident.status == IncidentStatus.NEW,
            now,
        ),
        _clock(
            "resolution",
            "Resolution",
            incident.resolution_due_at,
            incident.resolution_breached_at,
            incident.resolved_at,
            incident.is_open,
            now,
        ),
        # Set only while the incident is worked (sla_next_update_schedule); the next update resets it.
        _clock(
            "update",
            "Next update",
            incident.next_update_due_at,
            None,
            None,
            incident.next_update_due_at is not None,
            now,
        ),
    ]
