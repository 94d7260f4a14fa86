"""Receivers only enqueue: the decision is made by the task's service, under its locks."""

from actions.models import ActionRun
from common.tasks import enqueue_on_commit


def closed_loop_enqueue(sender, run: ActionRun, **kwargs) -> None:
    """An automated run on an incident finished: check whether its loop is closed."""
    if run.incident_id is None or not run.automated:
        return
    enqueue_on_commit("alerts.tasks.check_closed_loop", incident_id=run.incident_id)
