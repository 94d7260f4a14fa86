"""Receivers only enqueue: the decision is made by the task's service."""

from common.tasks import enqueue_on_commit
from incidents.models import Incident
from postmortems.choices import POSTMORTEM_PRIORITIES


def draft_on_resolution(sender, incident: Incident, transition: str, **kwargs) -> None:
    """A P1/P2 incident resolved (by people or automation): draft its post-mortem in the background."""
    if (
        transition not in ("resolve", "auto_resolve")
        or incident.closing_priority not in POSTMORTEM_PRIORITIES
    ):
        return
    enqueue_on_commit("postmortems.tasks.create_postmortem_draft", incident_id=incident.pk)
