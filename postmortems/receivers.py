"""Receivers only enqueue: the decision is made by the task's service."""

import logging

from incidents.models import Incident
from postmortems.choices import POSTMORTEM_PRIORITIES

logger = logging.getLogger(__name__)


def draft_on_resolution(sender, incident: Incident, transition: str, **kwargs) -> None:
    """A P1/P2 incident resolved (by people or automation): draft its post-mortem in the background."""
    if (
        transition not in ("resolve", "auto_resolve")
        or incident.closing_priority not in POSTMORTEM_PRIORITIES
    ):
        return
    from postmortems.tasks import create_postmortem_draft

    try:
        create_postmortem_draft.apply_async(args=[incident.pk], retry=False)
    except Exception:
        logger.warning("Could not enqueue the post-mortem draft of %s", incident.reference, exc_info=True)
