"""Drill schedules: the crontab kept in a beat PeriodicTask, the scheduled start with its
participants told through the notifications ledger and rules, and no second drill while one runs."""

import pytest
from django.core.exceptions import ValidationError
from django_celery_beat.models import PeriodicTask

from common.actor import Actor
from drills.choices import DrillStatus
from drills.models import DrillRun, DrillSchedule
from drills.services import drill_schedule_delete, drill_schedule_save
from drills.tasks import start_scheduled_drill
from notifications.choices import EventKind
from notifications.models import Delivery
from notifications.services.configuration import rule_save
from notifications.services.routing import event_route
from notifications.services.sending import delivery_message
from tests.enqueued import enqueued

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


@pytest.fixture
def dana(user_factory):
    return user_factory(username="dana", email="dana@example.com")


@pytest.fixture
def schedule(scenario, dana):
    scenarios = []

    def make(**data):
        if not scenarios:
            scenarios.append(scenario())
        participants = data.pop("participants", [dana])
        data.setdefault("name", "Monthly database drill")
        data.setdefault("scenario", scenarios[0])
        return drill_schedule_save(
            by=SYSTEM, data=data, participants=participants, crontab=data.pop("crontab", "0 10 1 * *")
        )

    return make


def test_the_crontab_lives_in_a_periodic_task_kept_in_step(schedule):
    made = schedule()
    task = made.periodic_task
    assert task.task == "drills.tasks.start_scheduled_drill" and task.args == f"[{made.pk}]"
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_month) == ("0", "10", "1")

    changed = drill_schedule_save(by=SYSTEM, schedule=made, data={"enabled": False}, crontab="30 9 * * 1")
    task = PeriodicTask.objects.get(pk=task.pk)
    assert not task.enabled and (task.crontab.minute, task.crontab.day_of_week) == ("30", "1")

    drill_schedule_delete(by=SYSTEM, schedule=changed)
    assert not PeriodicTask.objects.filter(task__startswith="drills.").exists()


def test_a_bad_crontab_writes_nothing(schedule):
    with pytest.raises(ValidationError):
        schedule(crontab="whenever")
    assert (
        not DrillSchedule.objects.exists()
        and not PeriodicTask.objects.filter(task__startswith="drills.").exists()
    )


def test_the_scheduled_start_tells_participants_and_the_rules(
    schedule, user_factory, django_capture_on_commit_callbacks
):
    made = schedule()
    lead = user_factory(username="lead", email="lead@example.com")
    rule_save(by=SYSTEM, name="Drills to the lead", event_kinds=[EventKind.DRILL_STARTED], users=[lead])

    with django_capture_on_commit_callbacks() as callbacks:
        assert start_scheduled_drill(made.pk).startswith("started drill #")

    run = DrillRun.objects.get()
    assert run.schedule == made and [u.username for u in run.participants.all()] == ["dana"]
    assert run.started_by is None and run.incident.is_drill
    to_dana = Delivery.objects.get(user__username="dana")
    assert to_dana.event_kind == EventKind.DRILL_STARTED and to_dana.address == "dana@example.com"
    message = delivery_message(to_dana)
    # The drill incident marks every message about it.
    assert message.subject == "[DRILL] Drill started: Database connection exhaustion"
    assert "This is an exercise" in message.text

    # The rules hear of it after commit, as of any event.
    (event,) = [
        c.args[1]["event"]
        for c in callbacks
        if enqueued([c]) == ["notifications.tasks.event_route"]
        and c.args[1]["event"]["kind"] == EventKind.DRILL_STARTED
    ]
    event_route(event=event)
    assert Delivery.objects.filter(user=lead, event_kind=EventKind.DRILL_STARTED).count() == 1


def test_no_second_drill_while_the_last_one_runs_and_none_when_disabled(schedule):
    made = schedule()
    start_scheduled_drill(made.pk)
    assert start_scheduled_drill(made.pk) == "skipped"  # A redelivered message.
    assert DrillRun.objects.filter(status=DrillStatus.RUNNING).count() == 1

    disabled = schedule(name="Off", enabled=False)
    assert start_scheduled_drill(disabled.pk) == "skipped"
    assert start_scheduled_drill(424242) == "skipped"
    assert DrillRun.objects.count() == 1
