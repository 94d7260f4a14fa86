"""Receivers only enqueue: the decision is made by the task's service, under its locks."""

import logging

from actions.models import ActionRun

logger = logging.getLogger(__name__)


def closed_loop_enqueue(sender, run: ActionRun, **kwargs) -> None:
    """An automated run on an incident finished: check whether its loop is closed."""
    if run.incident_id is None or not run.automated:
        return
    from alerts.tasks import check_closed_loop

    try:
        check_closed_loop.apply_async(args=[run.incident_id], retry=False)
    except Exception:
        logger.warning(
            "Could not enqueue the closed-loop check for incident %s", run.incident_id, exc_info=True
        )
