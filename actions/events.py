"""Which incident happenings start work in actions (common.events): an incident opening, from any
source, requests its services' state captures. The listener runs inside the publisher's transaction
and only enqueues after commit, so opening an incident never waits on (or fails for) a capture."""

from common.events import Happening
from common.tasks import enqueue_on_commit

CAPTURE_TASK = "actions.tasks.capture_incident_state"


def happening_heard(happening: Happening) -> None:
    if happening.topic == "incident" and happening.kind == "created" and happening.incident_id is not None:
        enqueue_on_commit(CAPTURE_TASK, incident_id=happening.incident_id)
