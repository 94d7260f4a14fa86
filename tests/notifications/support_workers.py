"""Real Celery workers for the notification tests: `celery worker` processes of their own
(tests/actions/worker_process.py) consuming the notifications queue of an isolated broker, a Redis
key prefix of this test's own on the shared Redis, against the test database."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections

from tests.conftest import celery_broker
from tests.programs import missing

START_SECONDS = 60


def database_url() -> str:
    db = connection.settings_dict
    auth = f"{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@"
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition, what: str, seconds: float = START_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out waiting for {what}.")


class Worker:
    """One `celery worker` process (in a session of its own, so it and its pool stop together)."""

    def __init__(self, directory: Path, options: dict, name: str, *args: str) -> None:
        self.log_path = directory / f"{name}.log"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "VAR_DIR": str(directory / f"var-{name}"),
            "SECRET_KEY": settings.SECRET_KEY,
            "MITIGATE_TEST_BROKER_OPTIONS": json.dumps(options),
        }
        if settings.FIELD_ENCRYPTION_KEYS:
            environment["FIELD_ENCRYPTION_KEY"] = ",".join(settings.FIELD_ENCRYPTION_KEYS)
        command = [sys.executable, "-m", "tests.actions.worker_process", "worker", "--loglevel", "INFO"]
        command += ["--hostname", f"{name}-{uuid.uuid4().hex[:8]}@%h"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", *args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(lambda: " ready." in self.log() or self.process.poll() is not None, f"{name} to start")
        assert self.process.poll() is None, self.log()[-3000:]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def redis_broker():
    """This test's own corner of the shared Redis (a key prefix), published to by this process and
    consumed by the workers; its keys are deleted afterwards. Skips without Redis (CI: fails)."""
    if not settings.REDIS_URL:
        missing("needs Redis (set REDIS_URL; .ci/run does)")
    import redis

    prefix = f"mitigate-test-{uuid.uuid4().hex}:"
    options = {**settings.BROKER_FAIL_FAST, "global_keyprefix": prefix}
    client = redis.Redis.from_url(settings.REDIS_URL)
    with celery_broker(settings.CELERY_BROKER_URL, options):
        yield options, client, prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def notification_workers(tmp_path, redis_broker):
    options = redis_broker[0]
    started: list[Worker] = []

    def start(name: str) -> Worker:
        worker = Worker(
            tmp_path, options, name, "--queues", "notifications", "--pool", "prefork", "--concurrency", "2"
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    connections.close_all()
