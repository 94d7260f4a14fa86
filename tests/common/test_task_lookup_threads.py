"""The first requests of a fresh gthread worker look their task up together: each must find it
(found by bench/scaleout.py, where every new worker answered its first webhook with a 500)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A fresh process: the apps' tasks modules are not imported yet, as in a web worker.
CODE = """
import os, threading
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from common.outbox import registered_task
errors, start = [], threading.Barrier(8)
def look_up():
    start.wait()
    try:
        registered_task("alerts.tasks.process_alerts")
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=look_up) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(errors), errors[:1])
"""


def test_threads_looking_up_a_task_at_once_all_find_it(tmp_path):
    env = {**os.environ, "VAR_DIR": str(tmp_path)}
    # Without the lock most fresh processes fail; two tries make a pass by luck unlikely.
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", CODE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "0 []"


# What a web process registers on its first lookup, then what the worker's loader adds to it.
SAME_TASKS = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from celery import current_app
from common.outbox import registered_task
registered_task("alerts.tasks.process_alerts")
looked_up = set(current_app.tasks)
current_app.loader.import_default_modules()
print(sorted(set(current_app.tasks) - looked_up), len(looked_up))
"""


def test_the_first_lookup_registers_every_task_the_worker_does(tmp_path):
    env = {**os.environ, "VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", SAME_TASKS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    missing, registered = done.stdout.strip().rsplit(" ", 1)
    assert missing == "[]"
    assert int(registered) > 30
