"""Real `celery worker` processes for the fault and concurrency tests (tests/actions/worker_process.py
is their entry point): each in a session of its own, so it and its pool stop together, against the
test database and an isolated broker the test publishes to."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

START_SECONDS = 60


def database_url() -> str:
    """The test database, for the worker processes."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
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
    """One `celery worker`; its log is kept for the assertions. `env` adds settings of its own."""

    def __init__(self, directory: Path, options: dict, name: str, *args: str, env: dict | None = None):
        self.log_path = directory / f"{name}.log"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "VAR_DIR": str(directory / f"var-{name}"),
            "SECRET_KEY": settings.SECRET_KEY,
            "MITIGATE_TEST_BROKER_OPTIONS": json.dumps(options),
            **(env or {}),
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

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes (not to the commands a run started: they
        run in sessions of their own)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
