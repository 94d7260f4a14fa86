"""Issue 12: two real Celery workers on the notifications queue, PostgreSQL and Redis, many
deliveries, and duplicate send messages on top: every delivery reaches its receiver exactly once
(the claim under a row lock, `skip_locked`, makes the second taker a no-op), and a repeated
route message adds no delivery."""

from collections import Counter

import pytest

from common.outbox import task_publish
from incidents.services import incident_create
from notifications.choices import EventKind
from notifications.models import Delivery
from tests.notifications.support_flow import rule, webhook_channel
from tests.worker_processes import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CHANNELS = 4
INCIDENTS = 30
DUPLICATES = 2
SEND = "notifications.tasks.delivery_send"
ROUTE = "notifications.tasks.event_route"


def test_two_workers_send_each_delivery_exactly_once(
    webhook_receiver, notification_workers, redis_broker, actor, priorities
):
    _, client, prefix = redis_broker
    channels = [webhook_channel(webhook_receiver, f"hook {i}", f"/hooks/{i}") for i in range(CHANNELS)]
    rule("Opened", [EventKind.INCIDENT_OPENED], channels=channels)
    first, second = notification_workers("first"), notification_workers("second")

    incidents = [
        incident_create(by=actor, title=f"Incident {i}", priority=priorities["P3"]) for i in range(INCIDENTS)
    ]
    total = CHANNELS * INCIDENTS
    wait_for(lambda: Delivery.objects.count() == total, "the deliveries to be routed")
    # Every route and send message again, twice, while the first ones are being worked on.
    events = {event["key"]: event for event in Delivery.objects.values_list("event", flat=True)}
    for delivery_id in Delivery.objects.values_list("pk", flat=True):
        for _ in range(DUPLICATES):
            task_publish(SEND, {"delivery_id": delivery_id}, task_id=None, eta=None)
    for event in events.values():
        for _ in range(DUPLICATES):
            task_publish(ROUTE, {"event": event}, task_id=None, eta=None)

    wait_for(lambda: Delivery.objects.filter(status="sent").count() == total, "every delivery to be sent")
    queue, unacked = f"{prefix}notifications", f"{prefix}unacked"
    wait_for(
        lambda: client.llen(queue) == 0 and client.hlen(unacked) == 0,
        "the duplicate messages to be worked off",
    )

    hits = Counter((r.path, r.json["incident"]["id"]) for r in webhook_receiver.verified)
    expected = {(f"/hooks/{i}", incident.pk) for i in range(CHANNELS) for incident in incidents}
    assert set(hits) == expected
    assert set(hits.values()) == {1}, [key for key, count in hits.items() if count > 1]
    assert len(webhook_receiver.requests) == total
    assert Delivery.objects.count() == total
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    logs = first.log() + second.log()
    assert f"{SEND}[" in first.log() and f"{SEND}[" in second.log(), logs[-3000:]
