"""Issue 12: a template edited through template_save shows in the next message the receiver gets,
with nothing to restart or reload."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from incidents.services import incident_acknowledge, incident_resolve
from notifications.choices import Audience, EventKind
from notifications.models import Channel, Delivery, MessageTemplate
from notifications.services.configuration import template_save
from tests.notifications.support_flow import SYSTEM, email_channel, hits_of, rule, webhook_channel

pytestmark = pytest.mark.django_db


def test_an_edited_template_shows_in_the_next_webhook_message(
    worker, webhook_receiver, no_default_rules, open_incident
):
    rule("Opened", [EventKind.INCIDENT_OPENED], channels=[webhook_channel(webhook_receiver)])
    with worker.after():
        open_incident(title="Before the edit")
    current = MessageTemplate.objects.get(event_kind=EventKind.INCIDENT_OPENED, audience=Audience.INTERNAL)

    template_save(
        by=SYSTEM,
        template=current,
        event_kind=EventKind.INCIDENT_OPENED,
        subject="NEW {{ incident.priority.code }} {{ incident.reference }}: {{ incident.title }}",
        body="Edited body. Severity {{ incident.priority.code }}; join the bridge.",
    )
    with worker.after():
        incident = open_incident(title="After the edit")

    before, after = hits_of(webhook_receiver)
    assert "Edited body" not in before["text"]
    assert after["subject"] == f"NEW P2 {incident.reference}: After the edit"
    assert after["text"] == "Edited body. Severity P2; join the bridge."


def test_a_new_template_for_a_kind_without_one_shows_in_the_email(
    worker, smtp, no_default_rules, open_incident, actor
):
    from incidents.services import incident_acknowledge

    rule("Acknowledged", [EventKind.ACKNOWLEDGED], channels=[email_channel(to=("ops@example.com",))])
    MessageTemplate.objects.filter(event_kind=EventKind.ACKNOWLEDGED).delete()
    template_save(
        by=SYSTEM,
        event_kind=EventKind.ACKNOWLEDGED,
        subject="Taken: {{ incident.reference }}",
        body="{{ event.by }} is on it.",
    )
    incident = open_incident()

    with worker.after():
        incident_acknowledge(incident=incident, by=actor)

    [mail] = smtp.mails
    assert mail.rcpt_tos == ["ops@example.com"]
    assert mail.message["Subject"] == f"Taken: {incident.reference}"
    assert "is on it." in mail.message.get_body(("plain",)).get_content()


def test_a_template_that_fails_to_render_kills_its_messages_but_not_the_channel(
    worker, webhook_receiver, no_default_rules, open_incident, settings, admin_user, actor
):
    """{% querystring %} compiles but fails when rendered (a message has no request): the
    message cannot be written. That is the template's fault, not the channel's: the channel stays
    enabled (nobody is told it was disabled) and the next kind of message goes out on it."""
    settings.NOTIFICATIONS_DISABLE_AFTER = 2
    channel = webhook_channel(webhook_receiver)
    rule("Opened and resolved", [EventKind.INCIDENT_OPENED, EventKind.RESOLVED], channels=[channel])
    current = MessageTemplate.objects.get(event_kind=EventKind.INCIDENT_OPENED, audience=Audience.INTERNAL)
    template_save(
        by=SYSTEM,
        template=current,
        event_kind=EventKind.INCIDENT_OPENED,
        subject="{{ incident.reference }}",
        body="{% querystring %}{{ incident.title }}",
    )

    for title in ("One", "Two", "Three"):
        with worker.after():
            incident = open_incident(title=title)
    incident = incident_acknowledge(incident=incident, by=actor)
    with worker.after():
        incident_resolve(incident=incident, by=actor, summary="Fixed.")

    dead = Delivery.objects.filter(status="dead")
    assert dead.count() == 3
    assert all(d.error.startswith("Could not render the message") for d in dead)
    channel = Channel.objects.get(pk=channel.pk)
    assert (channel.enabled, channel.permanent_failures) == (True, 0)
    assert mail.outbox == []
    assert [body["event"] for body in hits_of(webhook_receiver)] == ["resolved"]


@pytest.mark.parametrize("body", ['{% include "header.txt" %}', '{% extends "base.txt" %}'])
def test_include_and_extends_are_refused_when_saved(body):
    current = MessageTemplate.objects.get(event_kind=EventKind.INCIDENT_OPENED, audience=Audience.INTERNAL)

    with pytest.raises(ValidationError) as refused:
        template_save(
            by=SYSTEM, template=current, event_kind=EventKind.INCIDENT_OPENED, subject="{{ x }}", body=body
        )

    assert "not available here" in refused.value.message_dict["body"][0]
    current.refresh_from_db()
    assert "include" not in current.body and "extends" not in current.body
