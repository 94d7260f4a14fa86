import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_process_init, worker_ready

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
