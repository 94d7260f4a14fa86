"""Celery tasks of drills: thin, they take ids and call the services."""

from celery import shared_task

from drills.services import drill_runs_end_for_incident, drill_runs_sweep, drill_schedule_run


@shared_task(acks_late=True)
def end_drill_runs(incident_id: int) -> int:
    """A drill incident resolved or closed: complete its running drills (none twice)."""
    return len(drill_runs_end_for_incident(incident_id=incident_id))


@shared_task(acks_late=True)
def sweep_drill_runs() -> int:
    """Beat: runs whose incident ended while the message above was lost."""
    return drill_runs_sweep()


@shared_task(acks_late=True)
def start_scheduled_drill(schedule_id: int) -> str:
    """Beat, on a drill schedule's crontab."""
    run = drill_schedule_run(schedule_id=schedule_id)
    return f"started drill #{run.pk}" if run else "skipped"
