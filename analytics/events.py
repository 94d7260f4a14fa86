"""What makes a stored incident cost stale at once: a resolution, a dismissal or a reopen (they end
or start the stretches response time is counted in), and a change of its services (the rate, the
teams it counts under). The listener only enqueues the refresh, after
commit. Everything else is caught without a message per timeline event: while an incident is open
its cost is recomputed by the beat sweep (the incident page computes it live), the resolution
recomputes it with all that happened before, and the sweep also picks up review meetings changed
afterwards (analytics.services.cost.incident_costs_sweep)."""

from common.events import Happening
from common.tasks import enqueue_on_commit
from incidents.choices import EventKind

REFRESH_TASK = "analytics.tasks.incident_cost_refresh"
RECOMPUTE_ON = {
    EventKind.RESOLVED,
    EventKind.AUTO_RESOLVED,
    EventKind.REOPENED,
    EventKind.DISMISSED,
    EventKind.CLOSED,
}


def happening_heard(happening: Happening) -> None:
    if happening.topic != "incident" or not happening.incident_id:
        return
    # Changed services change the rate and the teams the cost counts under.
    services_changed = happening.kind == EventKind.UPDATED and "services" in happening.details.get(
        "fields", []
    )
    if happening.kind in RECOMPUTE_ON or services_changed:
        enqueue_on_commit(REFRESH_TASK, incident_id=happening.incident_id)
