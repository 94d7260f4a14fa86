"""Issue 12: the Delivery ledger. Transient failures back off and are retried until sent; permanent
ones are dead and, repeated, disable the channel and tell the superusers; a Slack 429 pauses that
channel only; a dead delivery can be retried by hand; a send task for a sent delivery sends nothing.

The receivers answer as the providers do (500, 503, 408, 4xx, 429 with Retry-After). Backoffs run
in minutes, so the test moves a delivery's next attempt back instead of waiting it out."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError, TransitionNotAllowedError
from notifications.choices import ChannelKind, EventKind
from notifications.models import Channel, Delivery
from notifications.services.channels import channel_save
from notifications.services.deliveries import delivery_retry
from notifications.services.routing import event_route
from notifications.services.sending import delivery_send
from tests.notifications.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.notifications.support_flow import (
    SYSTEM,
    backdate,
    hits_of,
    rule,
    slack_bot_channel,
    webhook_channel,
)

pytestmark = pytest.mark.django_db
SEND = "notifications.tasks.delivery_send"


@pytest.fixture
def told(webhook_receiver, no_default_rules):
    """An "incident opened" rule to a webhook channel; returns the channel."""
    channel = webhook_channel(webhook_receiver)
    rule("Opened", [EventKind.INCIDENT_OPENED], channels=[channel])
    return channel


@pytest.mark.parametrize("status", [500, 503, 408])
def test_a_transient_failure_backs_off_doubling_then_is_sent(
    status, worker, webhook_receiver, told, open_incident, settings
):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 60
    webhook_receiver.fail(status, times=2)

    before = timezone.now()
    with worker.after():
        open_incident()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert f"HTTP {status}" in delivery.error
    assert (
        before + timedelta(seconds=60) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=60)
    )
    assert len(worker.later) == 1  # The retry is a message with that eta.

    worker.run_later(early=True)  # Delivered early: not due, so nothing is sent.
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.attempts, len(webhook_receiver.requests)) == ("failed", 1, 1)

    backdate(delivery, seconds=60)
    first_retry = timezone.now()
    worker.run_task(SEND, {"delivery_id": delivery.pk}, delivery.task_id)
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert delivery.next_attempt_at >= first_retry + timedelta(seconds=120)  # Doubled.

    backdate(delivery, seconds=120)
    worker.run_later(early=True)
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 3, "")
    assert len(webhook_receiver.requests) == 3
    assert len(webhook_receiver.verified) == 1


def test_an_unreachable_endpoint_is_transient(worker, no_default_rules, open_incident, json_sink):
    url = json_sink.url
    json_sink.stop()  # Nothing listens there any more: connection refused.
    channel = channel_save(
        by=SYSTEM, name="Gone", kind=ChannelKind.WEBHOOK, config={"url": f"{url}/hook"}, secret="s3cret"
    )
    rule("Opened", [EventKind.INCIDENT_OPENED], channels=[channel])

    with worker.after():
        open_incident()

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "unreachable" in delivery.error
    assert Channel.objects.get(pk=channel.pk).permanent_failures == 0


def test_too_many_transient_failures_end_dead_without_disabling_the_channel(
    worker, webhook_receiver, told, open_incident, settings
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    webhook_receiver.fail(500, times=2)
    with worker.after():
        open_incident()
    delivery = Delivery.objects.get()
    backdate(delivery, seconds=3600)
    worker.run_later(early=True)

    delivery = Delivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.attempts) == ("dead", 2)
    assert Channel.objects.get(pk=told.pk).enabled


def test_permanent_failures_are_dead_and_disable_the_channel_and_tell_the_superusers(
    worker, webhook_receiver, told, open_incident, settings, admin_user
):
    settings.NOTIFICATIONS_DISABLE_AFTER = 2
    webhook_receiver.fail(404, times=10, body={"error": "no such hook"})

    with worker.after():
        open_incident(title="First")
    first = Delivery.objects.get()
    assert (first.status, first.attempts) == ("dead", 1)
    assert "HTTP 404" in first.error
    assert worker.later == []  # Not retried.
    assert Channel.objects.get(pk=told.pk).enabled  # One failure: not yet.
    assert mail.outbox == []

    with worker.after():
        open_incident(title="Second")

    channel = Channel.objects.get(pk=told.pk)
    assert not channel.enabled
    assert "2 permanent failures" in channel.disabled_reason
    [told_admin] = mail.outbox
    assert told_admin.to == ["admin@example.com"]
    assert channel.name in told_admin.subject + told_admin.body
    assert len(webhook_receiver.requests) == 2

    with worker.after():
        open_incident(title="Third")  # The disabled channel is no longer a recipient.
    assert len(webhook_receiver.requests) == 2
    assert Delivery.objects.filter(channel=channel).count() == 2


def test_a_success_resets_the_count_of_permanent_failures(
    worker, webhook_receiver, told, open_incident, settings
):
    settings.NOTIFICATIONS_DISABLE_AFTER = 2
    webhook_receiver.fail(400)
    with worker.after():
        open_incident(title="Refused")
    with worker.after():
        open_incident(title="Taken")
    webhook_receiver.fail(400)
    with worker.after():
        open_incident(title="Refused again")

    channel = Channel.objects.get(pk=told.pk)
    assert channel.enabled
    assert channel.permanent_failures == 1
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["dead", "dead", "sent"]


def test_a_queued_delivery_of_a_channel_disabled_meanwhile_is_dead_not_sent(
    worker, webhook_receiver, told, open_incident
):
    with worker.after():
        open_incident()
    Delivery.objects.update(status="pending")  # As if its message had not been taken yet.
    channel_save(by=SYSTEM, channel=told, name=told.name, kind=told.kind, config=told.config, enabled=False)

    delivery = Delivery.objects.get()
    worker.run_task(SEND, {"delivery_id": delivery.pk}, delivery.task_id)

    delivery = Delivery.objects.get(pk=delivery.pk)
    assert delivery.status == "dead"
    assert delivery.error.startswith("Channel disabled")
    assert len(webhook_receiver.requests) == 1


def test_a_slack_429_pauses_that_channel_only(
    worker, slack_api, webhook_receiver, no_default_rules, open_incident
):
    slack = slack_bot_channel(slack_api)
    hook = webhook_channel(webhook_receiver)
    rule("Opened", [EventKind.INCIDENT_OPENED], channels=[slack, hook])
    slack_api.rate_limit(retry_after=30)

    before = timezone.now()
    with worker.after():
        first = open_incident(title="First")
    with worker.after():
        second = open_incident(title="Second")

    paused = Channel.objects.get(pk=slack.pk).paused_until
    assert before + timedelta(seconds=30) <= paused <= timezone.now() + timedelta(seconds=30)
    on_slack = Delivery.objects.filter(channel=slack).order_by("id")
    assert [(d.status, d.attempts) for d in on_slack] == [("failed", 1), ("pending", 0)]
    assert "rate limited" in on_slack[0].error
    # The second message never went to Slack while paused: it waits for the pause to end.
    assert [d.next_attempt_at >= paused - timedelta(seconds=1) for d in on_slack] == [True, True]
    assert len([r for r in slack_api.requests if r.path == "/api/chat.postMessage"]) == 1
    # The other channel went on.
    assert [b["incident"]["id"] for b in hits_of(webhook_receiver)] == [first.pk, second.pk]

    Channel.objects.filter(pk=slack.pk).update(paused_until=timezone.now() - timedelta(seconds=1))
    for delivery in on_slack:
        backdate(delivery, seconds=31)
    worker.run_later(early=True)

    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    posted = [r.data for r in slack_api.requests if r.path == "/api/chat.postMessage"]
    assert len(posted) == 3


def test_retry_sends_a_dead_delivery_again(worker, webhook_receiver, told, open_incident, admin_user, viewer):
    webhook_receiver.fail(410)
    with worker.after():
        open_incident()
    delivery = Delivery.objects.get()
    assert delivery.status == "dead"

    with pytest.raises(PermissionDeniedError):
        delivery_retry(delivery=delivery, by=Actor(user=viewer, source=Source.ADMIN))
    with worker.after():
        delivery_retry(delivery=delivery, by=Actor(user=admin_user, source=Source.ADMIN))

    delivery = Delivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert delivery.error == ""  # Sent: the earlier error is gone from the row.
    assert len(webhook_receiver.verified) == 1
    with pytest.raises(TransitionNotAllowedError, match="Only failed or dead"):
        delivery_retry(delivery=delivery, by=Actor(user=admin_user, source=Source.ADMIN))


def test_retry_refuses_while_the_channel_is_disabled(
    worker, webhook_receiver, told, open_incident, admin_user
):
    webhook_receiver.fail(410)
    with worker.after():
        open_incident()
    channel_save(by=SYSTEM, channel=told, name=told.name, kind=told.kind, config=told.config, enabled=False)

    with pytest.raises(ValidationError, match="disabled"):
        delivery_retry(delivery=Delivery.objects.get(), by=Actor(user=admin_user, source=Source.ADMIN))


def test_a_repeated_send_task_for_a_sent_delivery_sends_nothing(
    worker, webhook_receiver, told, open_incident
):
    with worker.after():
        open_incident()
    delivery = Delivery.objects.get()
    assert delivery.status == "sent"

    for _ in range(3):
        worker.run_task(SEND, {"delivery_id": delivery.pk}, delivery.task_id)

    assert len(webhook_receiver.requests) == 1
    assert Delivery.objects.get().attempts == 1


def test_a_repeated_route_message_adds_no_delivery(worker, webhook_receiver, told, open_incident):
    with worker.after():
        open_incident()
    event = Delivery.objects.get().event

    with worker.after():
        assert event_route(event=event) == []

    assert Delivery.objects.count() == 1
    assert len(webhook_receiver.requests) == 1


def test_a_retried_sms_to_several_phones_skips_those_already_reached(twilio_api):
    channel = channel_save(
        by=SYSTEM,
        name="Ops phones",
        kind=ChannelKind.SMS,
        config={"from_number": "+15550001111", "to": ["+15551234567", "+15005550001"]},
        secret=f"{TWILIO_SID}:{TWILIO_TOKEN}",
    )
    delivery = Delivery.objects.create(
        event_key="e1",
        target_key=f"c:{channel.pk}",
        event_kind=EventKind.TEST,
        event={"kind": "test", "message": "Test", "details": {}, "at": "", "by": "test"},
        channel=channel,
        next_attempt_at=timezone.now(),
    )
    assert delivery_send(delivery_id=delivery.pk).status == "dead"  # the second number is refused
    twilio_api.invalid_numbers.clear()  # ... and fixed at the provider

    delivery_retry(delivery=delivery, by=SYSTEM)
    assert delivery_send(delivery_id=delivery.pk).status == "sent"

    assert [sent["to"] for sent in twilio_api.messages] == ["+15551234567", "+15005550001"]
