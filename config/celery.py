import os
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready

from config.runtime import startup_objects_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mitigate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

WORKER_READY_FILE = "worker-ready"


@worker_ready.connect
def _mark_ready(**kwargs) -> None:
    """Touch VAR_DIR/worker-ready: `make run`'s banner waits for it, so the worker's start-up
    output comes before the logins rather than after them."""
    from django.conf import settings

    (Path(settings.VAR_DIR) / WORKER_READY_FILE).touch()


@worker_process_init.connect
def _freeze_startup(**kwargs) -> None:
    # Each prefork child, once Django and the tasks are loaded (config/runtime.py says why).
    startup_objects_freeze()


@task_prerun.connect
@task_postrun.connect
def _database_connections_recycle(**kwargs) -> None:
    """Around each task, what Django does around each request: close a connection that is broken
    or older than CONN_MAX_AGE, and health-check the rest on first use (CONN_HEALTH_CHECKS). Celery's
    own Django fixup would close every connection before and after every task (settings.py's
    CELERY_DB_REUSE_MAX says why it does not): a new PostgreSQL connection per task, which was most
    of an alert's way to its first step. A task run eagerly (tests) runs inside its caller's
    transaction, which is left alone, as Celery's fixup does."""
    from django.db import close_old_connections

    task = kwargs.get("task")
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
