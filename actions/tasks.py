from celery import shared_task

from actions.services.execution import action_run_execute
from actions.services.sweeper import action_runs_sweep


@shared_task(acks_late=True)
def execute_action_run(run_id: int, task_id: str) -> None:
    """Run a scheduled action run; a stale or duplicate message finds nothing to do."""
    action_run_execute(run_id=run_id, task_id=task_id)


@shared_task(acks_late=True)
def sweep_action_runs() -> dict[str, int]:
    """Beat: expire approvals, re-dispatch lost runs, mark abandoned ones."""
    return action_runs_sweep()
