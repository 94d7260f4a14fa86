"""Listening to incidents (they never import drills): a drill incident that resolves ends its run."""

from common.tasks import enqueue_on_commit
from drills.services.runs import ENDING_TRANSITIONS
from incidents.models import Incident


def run_end_on_resolution(sender, incident: Incident, transition: str, **kwargs) -> None:
    if transition in ENDING_TRANSITIONS and incident.is_drill:
        enqueue_on_commit("drills.tasks.end_drill_runs", incident_id=incident.pk)
