"""Real Celery workers for the notification tests: `celery worker` processes of their own
(tests/actions/worker_process.py) consuming the notifications queue of an isolated broker, a Redis
key prefix of this test's own on the shared Redis, against the test database."""

import uuid

import pytest
from django.conf import settings
from django.db import connections

from tests.conftest import celery_broker
from tests.programs import missing
from tests.worker_processes import Worker


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
        queues = ("--queues", "notifications,deliveries")
        worker = Worker(tmp_path, options, name, *queues, "--pool", "prefork", "--concurrency", "2")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    connections.close_all()
