from celery import states

from observability.services import sweep_success_record


def sweep_finished(sender=None, state: str | None = None, **kwargs) -> None:
    """Celery's task_postrun, in the worker that ran the task."""
    if state == states.SUCCESS and sender is not None:
        sweep_success_record(task_name=sender.name)
