"""Every Celery task of the project has a queue in CELERY_TASK_ROUTES, so none lands on a queue no
worker consumes when the routes or the workers' -Q lists are changed."""

from celery.app.routes import MapRoute
from django.conf import settings

from config.celery import app


def project_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_project_tasks_are_discovered():
    assert "incidents.tasks.sweep_incident_sla" in project_tasks()


def test_every_task_has_a_queue():
    route = MapRoute(settings.CELERY_TASK_ROUTES)
    unrouted = [name for name in project_tasks() if not (route(name) or {}).get("queue")]
    assert unrouted == [], f"Add these tasks to CELERY_TASK_ROUTES in config/settings.py: {unrouted}"


def test_beat_schedules_only_known_tasks():
    known = set(project_tasks())
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= known
