"""Issue 12: the sweeper. A broker that is down when a delivery commits leaves it pending (its send
message waits in the outbox); the beat sweep enqueues it again once it is late, and it is sent once.
A delivery claimed by a worker that died mid-send ("sending" past the timeout) is closed as dead and
not sent again: nobody may get it twice."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from common.models import OutboxMessage
from notifications.choices import EventKind
from notifications.models import Delivery
from notifications.services.deliveries import LOST_SEND, deliveries_sweep
from notifications.services.routing import event_route
from notifications.services.sending import delivery_claim
from tests.conftest import celery_broker
from tests.notifications.support_flow import hits_of, rule, webhook_channel

pytestmark = pytest.mark.django_db
# Nothing listens on port 1: connections are refused at once, as when Redis is stopped.
DEAD_BROKER = "redis://127.0.0.1:1/0"
SEND = "notifications.tasks.delivery_send"
ROUTE = "notifications.tasks.event_route"


@pytest.fixture
def told(webhook_receiver, no_default_rules):
    channel = webhook_channel(webhook_receiver)
    rule("Opened", [EventKind.INCIDENT_OPENED], channels=[channel])
    return channel


def test_deliveries_committed_while_the_broker_is_down_are_sent_by_the_sweep(
    worker, webhook_receiver, told, open_incident, django_capture_on_commit_callbacks
):
    with (
        celery_broker(DEAD_BROKER, settings.BROKER_FAIL_FAST),
        django_capture_on_commit_callbacks(execute=True),
    ):
        open_incident()
    # The broker refused the route message: it waits (beside oncall's page_open, refused alike).
    [route] = OutboxMessage.objects.filter(task_name=ROUTE)
    with (
        celery_broker(DEAD_BROKER, settings.BROKER_FAIL_FAST),
        django_capture_on_commit_callbacks(execute=True),
    ):
        [delivery] = event_route(event=route.kwargs["event"])  # The outbox flush, routing.

    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    assert OutboxMessage.objects.filter(task_name=SEND).count() == 1
    assert webhook_receiver.requests == []

    with worker.after():
        assert deliveries_sweep()["requeued"] == 0  # Still within its grace: maybe just slow.
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS)
    with worker.after():
        counts = deliveries_sweep(now=timezone.now() + grace + timedelta(seconds=1))

    assert counts == {"requeued": 1, "lost": 0}
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len(hits_of(webhook_receiver)) == 1

    # The broker is back and the outbox publishes the old send message too: it sends nothing.
    kept = OutboxMessage.objects.get(task_name=SEND)
    worker.run_task(SEND, kept.kwargs, kept.task_id or None)
    with worker.after():
        assert deliveries_sweep(now=timezone.now() + grace + timedelta(seconds=1))["requeued"] == 0
    assert len(webhook_receiver.requests) == 1


def test_a_send_claimed_by_a_worker_that_died_is_dead_after_the_timeout_and_not_resent(
    worker, webhook_receiver, told, open_incident, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as published:
        open_incident()
    [event] = [c.args[1]["event"] for c in published if getattr(c, "args", None) and c.args[0] == ROUTE]
    with django_capture_on_commit_callbacks(execute=False) as sends:
        [delivery] = event_route(event=event)
    claimed = delivery_claim(delivery_id=delivery.pk)  # The worker claimed it, then was killed.
    assert claimed.status == "sending"
    timeout = timedelta(seconds=settings.NOTIFICATIONS_SEND_TIMEOUT_SECONDS)

    with worker.after():
        assert deliveries_sweep(now=timezone.now() + timeout / 2) == {"requeued": 0, "lost": 0}
    assert Delivery.objects.get(pk=delivery.pk).status == "sending"

    with worker.after():
        counts = deliveries_sweep(now=timezone.now() + timeout + timedelta(seconds=1))

    assert counts == {"requeued": 0, "lost": 1}
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.error) == ("dead", LOST_SEND)
    # Its original message, redelivered late (acks_late), finds it dead and sends nothing.
    [callback] = sends
    worker.run_task(SEND, callback.args[1], callback.keywords["task_id"])
    assert webhook_receiver.requests == []
    assert Delivery.objects.get(pk=delivery.pk).status == "dead"
