"""Which incident happenings start or stop paging (common.events). The listener runs inside the
publisher's transaction: it only enqueues, after commit, so an incident change never waits on (or
fails for) its page."""

from common.events import Happening
from common.tasks import enqueue_on_commit
from oncall.choices import PageStatus

OPEN_TASK = "oncall.tasks.page_open"
STOP_TASK = "oncall.tasks.page_stop"
OPENS = {"created", "priority_changed"}  # A P3 raised to P1 starts paging (or escalating, if notified).
STOPS = {
    "acknowledged": PageStatus.ACKNOWLEDGED,
    "resolved": PageStatus.RESOLVED,
    "auto_resolved": PageStatus.RESOLVED,
    "closed": PageStatus.RESOLVED,
    "dismissed": PageStatus.DISMISSED,
}


def happening_heard(happening: Happening) -> None:
    if happening.topic != "incident" or happening.incident_id is None:
        return
    if happening.kind in OPENS:
        enqueue_on_commit(OPEN_TASK, incident_id=happening.incident_id)
    elif happening.kind in STOPS:
        by = happening.by
        enqueue_on_commit(
            STOP_TASK,
            incident_id=happening.incident_id,
            status=str(STOPS[happening.kind]),
            user_id=by.user.pk if by.user is not None else None,
            source=str(by.source),
            label=by.label,
        )
