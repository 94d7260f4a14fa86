"""An incident's public status update (a person chose "public") goes to the status page: the
listener only enqueues, after commit, so posting the update never waits on (or fails for) the page."""

from common.events import Happening
from common.tasks import enqueue_on_commit

PUBLISH_TASK = "statuspage.tasks.status_update_publish"


def happening_heard(happening: Happening) -> None:
    if happening.topic != "incident" or happening.kind != "status_update":
        return
    details = happening.details
    if details.get("visibility") == "public" and details.get("status_update"):
        enqueue_on_commit(PUBLISH_TASK, status_update_id=details["status_update"])
