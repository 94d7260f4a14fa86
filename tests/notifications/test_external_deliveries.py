"""Deliveries to an external audience (no user, no channel): the app that registered the audience
builds the message and the target at send time; the ledger sends it once, with the extra email
headers and the link's own label."""

import uuid

import pytest
from django.db import IntegrityError
from django.utils import timezone

from notifications.choices import DeliveryStatus, EventKind
from notifications.external import external_audience, external_register
from notifications.models import Delivery
from notifications.services.sending import delivery_send
from notifications.transport import Message, PermanentSendError, Target

pytestmark = pytest.mark.django_db
AUDIENCE = "tests.readers"


def reader_message(delivery: Delivery) -> Message:
    if delivery.event.get("gone"):
        raise PermanentSendError("The reader left.")
    return Message(
        event_kind=EventKind.STATUS_PAGE,
        event_label="Status page update",
        subject="[Acme] Checkout is slow: Identified",
        text="We found the cause.",
        url="https://status.example.com/status/incidents/7/",
        url_label="View the status page",
        headers=(("List-Unsubscribe", "<https://status.example.com/status/unsubscribe/abc/>"),),
    )


def reader_target(delivery: Delivery) -> Target:
    return Target(kind="email", config={}, address=delivery.address)


@pytest.fixture(autouse=True)
def readers():
    external_register(AUDIENCE, message=reader_message, target=reader_target)


def delivery(**event) -> Delivery:
    return Delivery.objects.create(
        event_key=uuid.uuid4().hex,
        target_key="s:1",
        event_kind=EventKind.STATUS_PAGE,
        event=event,
        external=AUDIENCE,
        contact_kind="email",
        address="reader@example.com",
        audience="customer",
        next_attempt_at=timezone.now(),
    )


def test_an_external_delivery_is_sent_with_its_headers_and_link_label(smtp):
    sent = delivery_send(delivery_id=delivery().pk)

    assert sent.status == DeliveryStatus.SENT
    assert sent.target_label == "reader@example.com"
    [mail] = smtp.mails
    assert mail.rcpt_tos == ["reader@example.com"]
    assert mail.message["List-Unsubscribe"] == "<https://status.example.com/status/unsubscribe/abc/>"
    text = mail.message.get_body(("plain",)).get_content()
    assert "View the status page: https://status.example.com/status/incidents/7/" in text
    assert "Open in Mitigate" not in mail.message.as_string()


def test_a_builder_that_refuses_makes_the_delivery_dead_and_sends_nothing(smtp):
    sent = delivery_send(delivery_id=delivery(gone=True).pk)

    assert sent.status == DeliveryStatus.DEAD
    assert "The reader left." in sent.error
    assert smtp.mails == []


def test_a_delivery_needs_a_user_a_channel_or_an_external_audience():
    with pytest.raises(IntegrityError):
        Delivery.objects.create(
            event_key="k",
            target_key="t",
            event_kind=EventKind.STATUS_PAGE,
            next_attempt_at=timezone.now(),
        )


def test_an_unknown_audience_is_named():
    with pytest.raises(LookupError, match="nobody"):
        external_audience("nobody")
