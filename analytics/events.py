"""Every incident timeline event may change its cost (a new responder, a resolution, a reopen, a
role, the review meeting): the listener only enqueues the refresh, after commit."""

from common.events import Happening
from common.tasks import enqueue_on_commit

REFRESH_TASK = "analytics.tasks.incident_cost_refresh"


def happening_heard(happening: Happening) -> None:
    if happening.topic == "incident" and happening.incident_id is not None:
        enqueue_on_commit(REFRESH_TASK, incident_id=happening.incident_id)
