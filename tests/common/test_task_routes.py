"""Every Celery task of the project has a queue in CELERY_TASK_ROUTES, so none lands on a queue no
worker consumes when the routes or the workers' -Q lists are changed; everything beat sends goes to
the periodic queue, so an alert storm on `default` cannot starve the sweeps."""

import re
from pathlib import Path

import pytest
from celery.app.routes import MapRoute
from django.conf import settings
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import app

PROCFILE = Path(settings.BASE_DIR) / "Procfile"


def project_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def queue_of(task: str, options: dict | None = None, args=(), kwargs=None) -> str:
    """The queue apply_async would publish to, with these per-call options (as beat passes them)."""
    return app.amqp.router.route(dict(options or {}), task, args, kwargs)["queue"].name


def test_project_tasks_are_discovered():
    assert "incidents.tasks.sweep_incident_sla" in project_tasks()


def test_every_task_has_a_queue():
    route = MapRoute(settings.CELERY_TASK_ROUTES)
    unrouted = [name for name in project_tasks() if not (route(name) or {}).get("queue")]
    assert unrouted == [], f"Add these tasks to TASK_ROUTES in config/celery_schedule.py: {unrouted}"


def test_beat_schedules_only_known_tasks():
    known = set(project_tasks())
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= known


def test_every_task_in_the_beat_schedule_goes_to_the_periodic_queue():
    queues = {
        name: queue_of(entry["task"], entry.get("options"))
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    assert queues == dict.fromkeys(settings.CELERY_BEAT_SCHEDULE, settings.PERIODIC_QUEUE)


def test_event_driven_work_stays_off_the_periodic_queue():
    assert queue_of("alerts.tasks.process_alerts") == "default"
    assert queue_of("actions.tasks.execute_action_run") == "actions"
    assert queue_of("postmortems.tasks.send_postmortem_publication") == "default"


@pytest.mark.django_db(transaction=True)
def test_everything_beat_sends_goes_to_the_periodic_queue():
    """Beat as the Procfile runs it (django-celery-beat's database scheduler): the settings' schedule,
    the entries beat installs itself, and the report schedules stored in the database."""
    from analytics.services.reports import report_save
    from common.actor import Actor

    report_save(
        by=Actor.system(), data={"name": "Weekly MTTR", "type": "incident_summary"}, schedule="0 7 * * 1"
    )
    scheduler = DatabaseScheduler(app=app, lazy=True)
    scheduler.setup_schedule()
    # Every enabled entry, not all_as_schedule(): that one leaves out crontab entries not due within
    # the hour, which made this test depend on the time of day.
    entries = {
        model.name: scheduler.Entry(model, app=app) for model in PeriodicTask.objects.filter(enabled=True)
    }

    assert set(settings.CELERY_BEAT_SCHEDULE) <= set(entries)
    assert PeriodicTask.objects.filter(task="analytics.tasks.send_scheduled_report").count() >= 1
    reports = [e for e in entries.values() if e.task == "analytics.tasks.send_scheduled_report"]
    assert reports, "the report schedules are beat entries"
    misrouted = {
        name: queue
        for name, entry in entries.items()
        if (queue := queue_of(entry.task, entry.options, entry.args, entry.kwargs)) != settings.PERIODIC_QUEUE
    }
    assert misrouted == {}


def procfile_worker_queues() -> set[str]:
    queues: set[str] = set()
    for line in PROCFILE.read_text().splitlines():
        if " worker " in f" {line} ":
            match = re.search(r"(?:--queues|-Q)[ =](\S+)", line)
            assert match, f"A Procfile worker consumes only the default queue: {line}"
            queues |= set(match.group(1).split(","))
    return queues


def test_make_run_consumes_every_routed_queue():
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed - procfile_worker_queues() == set()
