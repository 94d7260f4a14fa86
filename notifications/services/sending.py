"""Sending one delivery: claim it under a lock (never sent twice), render, send outside any
transaction, record the outcome. Transient failures back off and retry; permanent ones are dead
and count against the channel, which is disabled (and the admins told) after too many in a row."""

import logging
import uuid
from datetime import timedelta
from traceback import format_exc
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from actions.models import ActionRun
from incidents.models import Incident, StatusUpdate
from notifications import integrations
from notifications.choices import ChannelKind, DeliveryStatus, EventKind
from notifications.external import external_audience
from notifications.integrations import slack
from notifications.models import Channel, Delivery, IncidentThread
from notifications.rendering.context import message_context
from notifications.rendering.render import kind_audience, message_render, template_source
from notifications.services.admins import channel_disabled_tell
from notifications.services.routing import delivery_enqueue
from notifications.transport import (
    Message,
    PermanentSendError,
    SendError,
    SendResult,
    Target,
    TransientSendError,
    secret_scrub,
)

logger = logging.getLogger(__name__)
SENDABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def delivery_message(delivery: Delivery) -> Message:
    """Render the delivery's message now (the template as it is, the incident as it is)."""
    if delivery.external:
        return external_audience(delivery.external).message(delivery)
    event = delivery.event
    run = None
    if event.get("run"):
        run = ActionRun.objects.select_related("action", "requested_by").filter(pk=event["run"]).first()
    update = None
    if (event.get("details") or {}).get("status_update"):
        update = (
            StatusUpdate.objects.select_related("author").filter(pk=event["details"]["status_update"]).first()
        )
    bundled = list(delivery.bundled_events.order_by("id").values_list("event__message", flat=True))
    incident = None
    if delivery.incident_id is not None:
        # Read fresh with what the message shows (the delivery's own reference may be stale).
        incidents = Incident.objects.select_related("priority", "commander", "assignee")
        incident = incidents.get(pk=delivery.incident_id)
    context = message_context(event=event, incident=incident, run=run, status_update=update, bundled=bundled)
    audience = kind_audience(delivery.event_kind, delivery.channel.config if delivery.channel else None)
    subject, body = template_source(delivery.event_kind, audience)
    return message_render(subject=subject, body=body, context=context)


def delivery_target(delivery: Delivery) -> Target:
    if delivery.external:
        return external_audience(delivery.external).target(delivery)
    channel = delivery.channel
    if channel is None:
        kind = ChannelKind.EMAIL if delivery.contact_kind == "email" else ChannelKind.SMS
        config = {"from_number": settings.NOTIFICATIONS_SMS_FROM} if kind == ChannelKind.SMS else {}
        secret = settings.NOTIFICATIONS_TWILIO_CREDENTIALS if kind == ChannelKind.SMS else ""
        return Target(kind=kind, config=config, secret=secret, address=delivery.address)
    thread = ""
    if channel.kind == ChannelKind.SLACK_BOT and delivery.incident_id:
        thread = (
            IncidentThread.objects.filter(channel=channel, incident_id=delivery.incident_id)
            .values_list("thread_ts", flat=True)
            .first()
            or ""
        )
    address = (
        ", ".join(channel.config.get("to") or [])
        if channel.kind in (ChannelKind.EMAIL, ChannelKind.SMS)
        else ""
    )
    # An earlier attempt's partial success (SMS to several phones): those numbers are not sent again.
    reached = tuple((delivery.payload or {}).get("sent") or ()) if isinstance(delivery.payload, dict) else ()
    return Target(
        kind=channel.kind,
        config=channel.config,
        secret=channel.secret,
        address=address,
        thread=thread,
        reached=reached,
    )


def delivery_claim(*, delivery_id: int) -> Delivery | None:
    """Lock the row and mark it sending, or None when there is nothing to send now (sent,
    claimed by another worker, not yet due, or superseded by a later message for the same row)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("channel", "rule")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status not in SENDABLE:
            return None
        if delivery.next_attempt_at > now + timedelta(seconds=1):
            return None  # Early: the message scheduled for its due time (or the sweeper) sends it.
        channel = delivery.channel
        if channel is not None and not channel.enabled:
            delivery.give_up()
            delivery.error = f"Channel disabled: {channel.disabled_reason or 'by an admin'}"
            delivery.save()
            return None
        if channel is not None and channel.paused_until and channel.paused_until > now:
            delivery.next_attempt_at = channel.paused_until
            delivery.task_id = uuid.uuid4().hex
            delivery.save(update_fields=["next_attempt_at", "task_id", "updated_at"])
            delivery_enqueue(delivery)
            return None
        delivery.claim()
        delivery.attempts += 1
        delivery.claimed_at = now
        delivery.save()
    return delivery


def delivery_send(*, delivery_id: int) -> Delivery | None:
    """Send one delivery if it is due and nobody else is sending it. Returns it, or None."""
    delivery = delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    try:
        message = delivery_message(delivery)
        target = delivery_target(delivery)
    except Exception as exc:  # A template that fails on this incident: nothing a retry would change.
        # The template's fault, not the channel's: it must not count towards disabling the channel.
        return _record(
            delivery, error=f"Could not render the message: {exc}", permanent=True, channel_fault=False
        )
    try:
        result = integrations.send(target, message)
    except TransientSendError as exc:
        return _record(
            delivery,
            message=message,
            error=secret_scrub(str(exc), target.secret),
            retry_after=exc.retry_after,
            payload=exc.payload,
        )
    except PermanentSendError as exc:
        error = secret_scrub(str(exc), target.secret)
        return _record(delivery, message=message, error=error, permanent=True, payload=exc.payload)
    except Exception as exc:  # An integration's own bug: logged, retried like a transient failure.
        trace = secret_scrub(format_exc(), target.secret)
        logger.error("Delivery %s: unexpected error sending\n%s", delivery.pk, trace)
        error = secret_scrub(f"{type(exc).__name__}: {exc}", target.secret)
        return _record(delivery, message=message, error=error)
    delivery = _record(delivery, message=message, result=result)
    after_send(delivery, message=message, result=result)
    return delivery


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600))


def _record(
    delivery: Delivery,
    *,
    message: Message | None = None,
    result: SendResult | None = None,
    error: str = "",
    permanent: bool = False,
    retry_after: float | None = None,
    payload: Any = None,
    channel_fault: bool = True,
) -> Delivery:
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update(of=("self",)).select_related("channel").get(pk=delivery.pk)
        )
        if message is not None:
            locked.subject = message.subject[:300]
        channel = locked.channel
        if result is not None:
            locked.succeed()
            locked.sent_at = now
            locked.provider_message_id = (result.provider_id or "")[:200]
            locked.payload = result.payload
            locked.error = ""
            if channel is not None and channel.permanent_failures:
                Channel.objects.filter(pk=channel.pk).update(permanent_failures=0)
        else:
            locked.error = error[:4000]
            locked.payload = payload
            if permanent or locked.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
                locked.give_up()
                if permanent and channel_fault and channel is not None:
                    _channel_failed(channel.pk, error)
            else:
                locked.fail()
                delay = timedelta(seconds=retry_after) if retry_after else _backoff(locked.attempts)
                locked.next_attempt_at = now + delay
                locked.task_id = uuid.uuid4().hex
                if retry_after and channel is not None:
                    # A rate limit holds this channel only: its other messages wait, the rest go on.
                    Channel.objects.filter(pk=channel.pk).update(paused_until=now + delay)
                delivery_enqueue(locked)
        locked.save()
        locked.bundled_events.update(sent_at=locked.sent_at, error=locked.error[:4000])
    return locked


def _channel_failed(channel_id: int, error: str) -> None:
    """Count a permanent failure; past the limit, disable the channel and tell the admins."""
    channel = Channel.objects.select_for_update(of=("self",)).get(pk=channel_id)
    channel.permanent_failures += 1
    fields = ["permanent_failures", "updated_at"]
    if channel.enabled and channel.permanent_failures >= settings.NOTIFICATIONS_DISABLE_AFTER:
        channel.enabled = False
        channel.disabled_reason = (
            f"Disabled after {channel.permanent_failures} permanent failures in a row; the last: {error}"
        )[:2000]
        fields += ["enabled", "disabled_reason"]
        channel.save(update_fields=fields)
        channel_disabled_tell(channel=channel)
        return
    channel.save(update_fields=fields)


def after_send(delivery: Delivery, *, message: Message, result: SendResult) -> None:
    """Slack bot channels: remember the incident's thread after its first message; open the
    incident's own #inc- channel when the rule asks (incident opened), archive it at close. A
    failure here is noted on the delivery, which was sent all the same."""
    channel = delivery.channel
    if channel is None or channel.kind != ChannelKind.SLACK_BOT or not delivery.incident_id:
        return
    thread, _ = IncidentThread.objects.get_or_create(
        channel=channel, incident_id=delivery.incident_id, defaults={"thread_ts": result.thread}
    )
    try:
        if (
            delivery.event_kind == EventKind.INCIDENT_OPENED
            and delivery.rule is not None
            and delivery.rule.create_incident_channel
            and not thread.incident_channel_id
        ):
            name = slack.incident_channel_name(message.incident_reference)
            thread.incident_channel_id = slack.incident_channel_create(channel.secret, name)
            thread.save(update_fields=["incident_channel_id", "updated_at"])
            slack.incident_channel_post(channel.secret, thread.incident_channel_id, message)
        elif (
            delivery.event_kind == EventKind.CLOSED
            and thread.incident_channel_id
            and not thread.incident_channel_archived
        ):
            slack.incident_channel_archive(channel.secret, thread.incident_channel_id)
            thread.incident_channel_archived = True
            thread.save(update_fields=["incident_channel_archived", "updated_at"])
    except SendError as exc:
        logger.warning("Delivery %s: incident channel step failed: %s", delivery.pk, exc)
        Delivery.objects.filter(pk=delivery.pk).update(
            error=f"Sent; the incident channel step failed: {exc}"[:4000]
        )
