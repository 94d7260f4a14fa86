"""Nothing is lost when the broker is down, or Redis altogether (cache and broker): the webhook still
stores the alerts and answers 202, and the beat sweeper processes them once it can."""

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from django.test import Client, override_settings
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_rule_save
from alerts.services.processing import alerts_sweep
from common.actor import Actor
from common.models import OutboxMessage
from common.publish_behind import publish_behind_drain
from incidents.models import Incident
from tests.alerts.support import am_alert, am_payload
from tests.conftest import celery_broker

pytestmark = pytest.mark.django_db
# Nothing listens on port 1: connections are refused at once, as when Redis is stopped.
DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.mark.django_db(transaction=True)  # the publishing thread keeps the message on its own connection
def test_alerts_posted_while_the_broker_is_down_are_stored_then_swept(client, make_source, caplog):
    alert_rule_save(by=Actor.system(), data={"name": "Everything", "matchers": []})
    _, token = make_source()
    body = json.dumps(am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b", instance="web-2:9100")))

    with (
        celery_broker(DEAD_BROKER, settings.BROKER_FAIL_FAST),
        caplog.at_level(logging.WARNING, logger="common.outbox"),
    ):
        response = client.post(f"/hooks/{token}/", data=body, content_type="application/json")
        assert publish_behind_drain()  # the process's publishing thread is done with it

    assert response.status_code == 202
    assert "Broker unavailable; alerts.tasks.process_alerts" in caplog.text
    # One message for the whole payload, which the broker refused: it waits for the broker too.
    (kept,) = OutboxMessage.objects.all()
    assert (kept.task_name, len(kept.kwargs["alert_ids"])) == ("alerts.tasks.process_alerts", 2)
    assert Alert.objects.filter(processed=False).count() == 2
    assert Incident.objects.count() == 0

    assert alerts_sweep(now=timezone.now() + timedelta(minutes=1)) == 2

    assert Alert.objects.filter(processed=True, incident__isnull=False).count() == 2
    assert Incident.objects.count() == 2


# --- the fault test: Redis (cache and broker) stopped, then back ----------------------------------

# Longer than the sweeper's grace (SWEEP_GRACE, 10 s), as the default (30 s) is: an alert stored just
# before Redis came back is still in its grace at the first sweep, and taken by the second.
SWEEP_SECONDS = 15
OUTAGE_ALERTS = 200


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port, stopped and started by the test
    (the shared one on 6379 is never touched). Only the process this object started is stopped."""

    def __init__(self, folder: Path):
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (.ci/run installs it)")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_processes(private_redis, tmp_path):
    """A real worker and beat, as the Procfile runs them, on the private Redis and the test database,
    with the alert sweep every SWEEP_SECONDS. Yields their log files."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": private_redis.url,
        "ALERT_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    celery = str(Path(sys.executable).with_name("celery"))
    queues = ",".join(sorted({route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}))
    logs = {"worker": tmp_path / "worker.log", "beat": tmp_path / "beat.log"}
    processes = [
        _start(
            [celery, "-A", "config", "worker", "--pool", "solo", "-Q", queues, "--without-heartbeat"],
            env,
            logs["worker"],
        ),
        _start([celery, "-A", "config", "beat", "-s", str(tmp_path / "beat-schedule")], env, logs["beat"]),
    ]
    yield logs
    for process in processes:
        _stop(process)
    connections.close_all()


def _wait_until(condition, seconds: float) -> float | None:
    """Seconds until `condition()` held, or None if it did not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    return None


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_loses_no_alert(private_redis, celery_processes, make_source):
    """Redis, the cache and the broker, stopped: 200 distinct alerts posted are all answered 202 and
    stored (the rate limiter fails open, processing waits); Redis back: the beat sweeper processes
    every one of them within two sweep intervals."""
    alert_rule_save(
        by=Actor.system(),
        data={"name": "Everything", "matchers": [], "incident_policy": "attach", "group_by": ["alertname"]},
    )
    _, token = make_source(rate_limit_per_minute=1000)
    client = Client()
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": private_redis.url,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }

    def post(fingerprint: str) -> int:
        body = json.dumps(am_payload(am_alert(fingerprint=fingerprint, instance=f"{fingerprint}:9100")))
        return client.post(f"/hooks/{token}/", data=body, content_type="application/json").status_code

    with (
        override_settings(CACHES={"default": cache}),
        celery_broker(private_redis.url, settings.BROKER_FAIL_FAST),
    ):
        # Up: the worker takes the task as usual.
        assert post("warm-up") == 202
        processed = Alert.objects.filter(fingerprint="warm-up", processed=True)
        assert _wait_until(processed.exists, 60) is not None, celery_processes["worker"].read_text()[-3000:]

        private_redis.stop()
        started = time.monotonic()
        statuses = Counter(post(f"outage-{i:03d}") for i in range(OUTAGE_ALERTS))
        posting = time.monotonic() - started
        stored = Alert.objects.filter(fingerprint__startswith="outage-")
        unprocessed_during_outage = stored.filter(processed=False).count()

        private_redis.start()
        recovered = _wait_until(lambda: not stored.filter(processed=False).exists(), 4 * SWEEP_SECONDS)

    print(
        f"\nRedis outage: {OUTAGE_ALERTS} posted in {posting:.1f} s, answers {dict(statuses)}, "
        f"{stored.count()} stored, {unprocessed_during_outage} waiting; Redis back: all processed after "
        f"{recovered if recovered is None else round(recovered, 1)} s (sweep every {SWEEP_SECONDS} s)"
    )
    assert statuses == {202: OUTAGE_ALERTS}
    assert stored.count() == OUTAGE_ALERTS
    assert unprocessed_during_outage == OUTAGE_ALERTS
    assert recovered is not None and recovered <= 2 * SWEEP_SECONDS, (
        celery_processes["worker"].read_text()[-3000:] + celery_processes["beat"].read_text()[-2000:]
    )
    assert stored.filter(incident__isnull=False).count() == OUTAGE_ALERTS
    assert Incident.objects.count() == 1  # all joined the warm-up's incident (policy attach)
