from celery import shared_task

from actions.services.capture import incident_captures_request, incident_captures_sweep
from actions.services.execution import action_run_execute
from actions.services.sweeper import action_runs_sweep


@shared_task(bind=True, acks_late=True)
def execute_action_run(self, *, run_id: int) -> None:
    """Run a scheduled action run. The message's id is the task id stored on the run, so a stale or
    duplicate message finds another id (or another state) and does nothing."""
    action_run_execute(run_id=run_id, task_id=self.request.id)


@shared_task(acks_late=True)
def sweep_action_runs() -> dict[str, int]:
    """Beat: expire approvals, re-dispatch lost runs, mark abandoned ones, request lost captures."""
    counts = action_runs_sweep()
    counts["captures"] = len(incident_captures_sweep())
    return counts


@shared_task(acks_late=True)
def capture_incident_state(*, incident_id: int) -> list[int]:
    """Request the state captures of a newly opened incident's services; idempotent (one capture per
    service and incident), so a redelivered message requests nothing twice."""
    return [run.pk for run in incident_captures_request(incident_id=incident_id)]
