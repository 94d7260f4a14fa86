"""common.publish_behind on the Redis of REDIS_URL (CI's; skipped without one): ids handed over by
many request threads reach the broker, each exactly once, in fewer messages; a refusing Redis
leaves them in the outbox; a process that exits normally publishes what it holds first."""

import base64
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from common.models import OutboxMessage
from common.publish_behind import MESSAGE_IDS_MAX, ids_publish_behind, publish_behind_drain
from tests.conftest import celery_broker

pytestmark = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis://"), reason="needs the Redis broker (REDIS_URL)"
)
TASK = "alerts.tasks.process_alerts"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_broker():
    with celery_broker(settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS):
        yield redis.Redis.from_url(settings.CELERY_BROKER_URL)


def taken(client: redis.Redis, ids: set[int]) -> list[list[int]]:
    """The id lists of the queued process_alerts messages naming any of `ids`, removed from the
    queue (a later worker test must not run them)."""
    found = []
    for raw in client.lrange("default", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] != TASK:
            continue
        alert_ids = json.loads(base64.b64decode(message["body"]))[1]["alert_ids"]
        if ids & set(alert_ids):
            found.append(alert_ids)
            client.lrem("default", 0, raw)
    return found


def fresh_ids(count: int) -> list[int]:
    """Ids no other test names: far above any row's."""
    base = 10**12 + uuid.uuid4().int % 10**9 * 10**3
    return list(range(base, base + count))


def test_ids_of_many_threads_are_published_once_in_fewer_messages(redis_broker):
    ids = fresh_ids(400)
    threads = [
        threading.Thread(target=lambda part: ids_publish_behind(TASK, "alert_ids", part), args=([i],))
        for i in ids
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert publish_behind_drain()

    messages = taken(redis_broker, set(ids))
    assert sorted(i for message in messages for i in message) == ids
    assert len(messages) < len(ids)
    assert all(message == sorted(message) for message in messages)


def test_a_large_hand_over_is_split(redis_broker):
    ids = fresh_ids(MESSAGE_IDS_MAX + 1)
    ids_publish_behind(TASK, "alert_ids", ids)
    assert publish_behind_drain()
    assert sorted(len(message) for message in taken(redis_broker, set(ids))) == [1, MESSAGE_IDS_MAX]


@pytest.mark.django_db(transaction=True)
def test_a_refusing_redis_leaves_the_ids_in_the_outbox():
    ids = fresh_ids(3)
    with celery_broker("redis://127.0.0.1:1/0", settings.BROKER_FAIL_FAST):
        ids_publish_behind(TASK, "alert_ids", ids)
        assert publish_behind_drain()
    kept = OutboxMessage.objects.get()
    assert (kept.task_name, kept.kwargs) == (TASK, {"alert_ids": ids})


def test_a_normal_exit_publishes_what_the_process_holds(redis_broker):
    """A process hands ids over and exits at once: they are published before it ends."""
    ids = fresh_ids(50)
    script = (
        "import django; django.setup()\n"
        "from common.publish_behind import ids_publish_behind\n"
        f"ids_publish_behind({TASK!r}, 'alert_ids', {ids!r})\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": settings.REDIS_URL}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    assert [sorted(message) for message in taken(redis_broker, set(ids))] == [ids]
