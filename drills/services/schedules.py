"""Drill schedules: a crontab (like analytics reports') that starts the scenario with its
participants, who are told through the notifications app that the drill has begun."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django_celery_beat.models import PeriodicTask

from analytics.services.reports.schedule import crontab_fields, crontab_text, periodic_task_save
from common.actor import Actor, Source
from drills.choices import DrillStatus
from drills.models import DrillRun, DrillSchedule
from drills.services.notify import participants_notify
from drills.services.runs import drill_run_start

TASK_NAME = "drills.tasks.start_scheduled_drill"
DEFAULT_SCHEDULE = "0 10 * * 3"  # Wednesdays at 10:00: a working hour, mid-week.
SCHEDULE_FIELDS = ("name", "scenario", "enabled")

__all__ = ["crontab_text", "drill_schedule_delete", "drill_schedule_run", "drill_schedule_save"]


def _periodic_task_save(schedule: DrillSchedule, fields: dict[str, str]) -> PeriodicTask:
    return periodic_task_save(
        task=schedule.periodic_task,
        task_name=TASK_NAME,
        name=f"Drill schedule #{schedule.pk}: {schedule.name}",
        fields=fields,
        pk=schedule.pk,
        enabled=schedule.enabled,
        description=f"Starts the drill {schedule.scenario.name!r}.",
    )


@transaction.atomic
def drill_schedule_save(
    *,
    by: Actor,
    schedule: DrillSchedule | None = None,
    data: dict[str, Any],
    participants: list | None = None,
    crontab: str | dict[str, Any] | None = None,
) -> DrillSchedule:
    creating = schedule is None
    by.require("drills.add_drillschedule" if creating else "drills.change_drillschedule", "schedule drills")
    schedule = schedule or DrillSchedule()
    for field, value in data.items():
        if field not in SCHEDULE_FIELDS:
            raise ValidationError({field: ["Not a drill schedule field."]})
        setattr(schedule, field, value)
    if crontab is None:
        crontab = crontab_text(schedule.periodic_task) or DEFAULT_SCHEDULE
    fields = crontab_fields(crontab)
    schedule.full_clean(exclude=["periodic_task"])
    schedule.save()
    if participants is not None:
        schedule.participants.set(participants)
    schedule.periodic_task = _periodic_task_save(schedule, fields)
    schedule.save(update_fields=["periodic_task", "updated_at"])
    return schedule


@transaction.atomic
def drill_schedule_delete(*, by: Actor, schedule: DrillSchedule) -> None:
    by.require("drills.delete_drillschedule", "delete drill schedules")
    task = schedule.periodic_task
    schedule.delete()
    if task is not None:
        task.delete()


def drill_schedule_run(*, schedule_id: int) -> DrillRun | None:
    """Beat, at the schedule's time: start its drill and tell its participants. Nothing when the
    schedule is gone or disabled, or its previous drill is still running (a redelivered message
    must not start a second one)."""
    with transaction.atomic():
        schedule = (
            DrillSchedule.objects.select_for_update(of=("self",))
            .select_related("scenario__source", "scenario__priority")
            .filter(pk=schedule_id, enabled=True)
            .first()
        )
        if schedule is None or schedule.runs.filter(status=DrillStatus.RUNNING).exists():
            return None
        participants = list(schedule.participants.all())
        run = drill_run_start(
            scenario=schedule.scenario,
            by=Actor.system(source=Source.TASK, label=f"drill-schedule:{schedule.name}"),
            participants=participants,
            schedule=schedule,
        )
        participants_notify(run=run)
    return run
