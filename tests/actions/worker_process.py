"""A real Celery worker in a process of its own, for the tests that kill one with SIGKILL.

    python -m tests.actions.worker_process worker --queues actions ...

runs the `celery` command line on the project's app, with the broker transport options replaced by
MITIGATE_TEST_BROKER_OPTIONS (JSON): the worker then shares an isolated broker with its test (a
folder of its own, or a Redis key prefix of its own) and nothing else, not even another test's
worker on CI's Redis."""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.celery import app

if __name__ == "__main__":
    app.conf.broker_transport_options = json.loads(os.environ["MITIGATE_TEST_BROKER_OPTIONS"])
    app.start(sys.argv[1:])
