"""Which incident happenings start work in actions (common.events): an incident opening, from any
source, requests its services' state captures. The listener runs inside the publisher's transaction
and only enqueues after commit, so opening an incident never waits on (or fails for) a capture."""

from common.events import Happening
from common.tasks import enqueue_on_commit

CAPTURE_TASK = "actions.tasks.capture_incident_state"


def happening_heard(happening: Happening) -> None:
    if happening.topic != "incident" or happening.kind != "created" or happening.incident_id is None:
        return
    # Captures are per service: an incident opened without one (its `created` event lists them) has
    # none to request, and no task is sent for it (an alert storm opens many such incidents).
    if happening.details.get("services", True):
        enqueue_on_commit(CAPTURE_TASK, incident_id=happening.incident_id)
