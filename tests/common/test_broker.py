"""common.broker pushes plain task messages onto a Redis broker itself: the message must be the one
apply_async would have pushed, a real worker must run it, and a refusing Redis must leave it in the
outbox. On the Redis of REDIS_URL (CI's); skipped without one."""

import base64
import json
import time
import uuid

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections

from alerts.models import Alert
from alerts.parsers import parse
from alerts.services import alert_source_create, alerts_ingest
from common.actor import Actor
from common.broker import redis_publish
from common.models import OutboxMessage
from common.outbox import registered_task, task_publish_or_keep
from config.celery import app
from tests.alerts.support import alertmanager_alert, alertmanager_payload
from tests.conftest import celery_broker

pytestmark = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis://"), reason="needs the Redis broker (REDIS_URL)"
)
TASK = "alerts.tasks.process_alerts"


@pytest.fixture
def redis_broker():
    with celery_broker(settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS):
        yield redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queued(client: redis.Redis, task_id: str) -> dict:
    (raw,) = [raw for raw in client.lrange("default", 0, -1) if json.loads(raw)["headers"]["id"] == task_id]
    client.lrem("default", 0, raw)  # not to be run by a later worker test
    return json.loads(raw)


def without_ids(message: dict) -> dict:
    message = json.loads(json.dumps(message))
    for name in ("id", "root_id"):
        message["headers"][name] = "-"
    for name in ("correlation_id", "delivery_tag"):
        message["properties"][name] = "-"
    message["body"] = json.loads(base64.b64decode(message["body"]))
    return message


def test_the_message_is_the_one_apply_async_pushes(redis_broker):
    task = registered_task(TASK)
    ours, theirs = f"by-us-{uuid.uuid4()}", f"by-celery-{uuid.uuid4()}"
    task.apply_async(kwargs={"alert_ids": [1, 2]}, task_id=theirs, retry=False)
    assert redis_publish(task, {"alert_ids": [1, 2]}, task_id=ours)

    by_celery, by_us = queued(redis_broker, theirs), queued(redis_broker, ours)
    assert without_ids(by_us) == without_ids(by_celery)
    assert by_us["headers"]["root_id"] == by_us["properties"]["correlation_id"] == ours


def test_other_brokers_and_eager_mode_are_left_to_apply_async(redis_broker):
    task = registered_task(TASK)
    app.conf.task_always_eager = True
    try:
        assert not redis_publish(task, {"alert_ids": [1]}, task_id=None)
    finally:
        app.conf.task_always_eager = False
    with celery_broker("memory://"):
        assert not redis_publish(task, {"alert_ids": [1]}, task_id=None)


def test_a_bad_argument_fails_as_apply_async_would(redis_broker):
    with pytest.raises(TypeError):
        redis_publish(registered_task(TASK), {"alert_id": 1}, task_id=None)


def test_a_key_prefix_set_after_a_publish_sends_the_message_through_apply_async(redis_broker):
    """The queue found for a task is kept per key prefix: the tests' workers each listen under a
    prefix of their own, and a message pushed to the unprefixed list would never reach them."""
    task = registered_task(TASK)
    assert redis_publish(task, {"alert_ids": [1]}, task_id=None)  # plain: found and kept
    options = {**settings.BROKER_FAIL_FAST, "global_keyprefix": f"test-{uuid.uuid4().hex}:"}
    with celery_broker(settings.CELERY_BROKER_URL, options):
        assert not redis_publish(task, {"alert_ids": [1]}, task_id=None)


@pytest.mark.django_db
def test_a_refusing_redis_leaves_the_message_in_the_outbox():
    with celery_broker("redis://127.0.0.1:1/0", settings.BROKER_FAIL_FAST):
        task_publish_or_keep(TASK, {"alert_ids": [7]}, task_id=None, eta=None)
    kept = OutboxMessage.objects.get()
    assert (kept.task_name, kept.kwargs) == (TASK, {"alert_ids": [7]})
    assert "Connection" in kept.last_error


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_pushed_message(redis_broker):
    source, _ = alert_source_create(by=Actor.system(), name="Prometheus", kind="alertmanager")
    raw = alertmanager_payload(alertmanager_alert())
    (alert,) = alerts_ingest(source=source, payload=parse(source.kind, raw), raw=raw)
    assert not alert.processed

    task_publish_or_keep(TASK, {"alert_ids": [alert.pk]}, task_id=None, eta=None)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=["default"]):
        deadline = time.monotonic() + 30
        while not Alert.objects.get(pk=alert.pk).processed and time.monotonic() < deadline:
            time.sleep(0.2)
    connections.close_all()
    assert Alert.objects.get(pk=alert.pk).processed
    assert not OutboxMessage.objects.exists()
