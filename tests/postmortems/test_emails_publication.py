"""The post-mortem publication to stakeholders, delivered through a real SMTP server (aiosmtpd on
127.0.0.1): its recipients, text and Markdown attachment, sent once, and retried when SMTP is down."""

import pytest

from postmortems.markdown import postmortem_markdown
from postmortems.models import Postmortem
from postmortems.services import postmortem_publication_send
from postmortems.tasks import send_postmortem_publication
from tests.enqueued import enqueued
from tests.postmortems.conftest import free_port
from tests.postmortems.mail_support import EXPECTED_STAKEHOLDERS, SITE, assert_stakeholders, publish

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("postmortem_mail")]


def test_publication_is_delivered_to_the_stakeholders(
    smtp_server, eager_celery, in_review, people, django_capture_on_commit_callbacks
):
    postmortem, _ = publish(in_review, people, django_capture_on_commit_callbacks, execute=True)

    assert len(smtp_server) == 1
    delivery = smtp_server.deliveries[0]
    assert sorted(delivery.rcpt_tos) == sorted(EXPECTED_STAKEHOLDERS)
    assert "outsider@example.com" not in delivery.rcpt_tos
    assert delivery.mail_from == "mitigate@example.com"
    message = delivery.message
    assert_stakeholders([a.addr_spec for a in message["To"].addresses])
    assert message["From"].addresses[0].addr_spec == "mitigate@example.com"
    incident = postmortem.incident
    assert message["Subject"] == f"[P1] Post-mortem published: {incident.reference} Payments fail with 500"

    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith(f"# Post-mortem: {incident.reference} Payments fail with 500")
    for heading in (
        "## Executive Summary",
        "## Impact",
        "## Detection",
        "## Timeline",
        "## Root Cause Analysis",
        "### Why It Happened (5 Whys)",
        "### Contributing Factors",
        "## Resolution",
    ):
        assert heading in body
    assert "Payments failed for 40 minutes after release 42." in body
    assert "A migration locked the payments table." in body
    assert "**Why did payments fail?**" in body
    assert "- No lock timeout" in body
    assert "**Severity**: P1" in body
    assert "Payments API" in body
    assert f"Online: {SITE}/admin/postmortems/postmortem/{postmortem.pk}/change/" in body

    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    attachment = attachments[0]
    assert attachment.get_filename() == f"{incident.reference}-postmortem.md"
    assert attachment.get_content_type() == "text/markdown"
    markdown = attachment.get_content()
    assert markdown.replace("\r\n", "\n") == postmortem_markdown(Postmortem.objects.get(pk=postmortem.pk))
    assert body.replace("\r\n", "\n").startswith(markdown.replace("\r\n", "\n"))

    postmortem.refresh_from_db()
    assert_stakeholders(postmortem.published_to)


def test_publication_is_sent_once(smtp_server, in_review, people, django_capture_on_commit_callbacks):
    postmortem, callbacks = publish(in_review, people, django_capture_on_commit_callbacks, execute=False)
    assert enqueued(callbacks, "postmortems.") == ["postmortems.tasks.send_postmortem_publication"]

    assert send_postmortem_publication(postmortem_id=postmortem.pk) == len(EXPECTED_STAKEHOLDERS)
    assert len(smtp_server) == 1
    # A redelivered task message, the sweeper, anyone: nothing more goes out.
    assert send_postmortem_publication(postmortem_id=postmortem.pk) == 0
    assert postmortem_publication_send(postmortem_id=postmortem.pk) == []
    assert len(smtp_server) == 1
    postmortem.refresh_from_db()
    assert_stakeholders(postmortem.published_to)


def test_unpublished_postmortem_is_not_sent(smtp_server, in_review):
    assert postmortem_publication_send(postmortem_id=in_review.pk) == []
    assert postmortem_publication_send(postmortem_id=999_999) == []
    assert len(smtp_server) == 0


def test_publication_with_smtp_down_raises_records_nothing_and_succeeds_later(
    smtp_server, settings, in_review, people, django_capture_on_commit_callbacks
):
    postmortem, _ = publish(in_review, people, django_capture_on_commit_callbacks, execute=False)
    settings.EMAIL_PORT = free_port()  # Nothing listens there: connection refused.

    with pytest.raises(OSError):
        postmortem_publication_send(postmortem_id=postmortem.pk)
    postmortem.refresh_from_db()
    assert postmortem.published_to == []
    assert len(smtp_server) == 0
    # The task retries on exactly that kind of error.
    assert OSError in send_postmortem_publication.autoretry_for

    settings.EMAIL_PORT = smtp_server.port
    assert_stakeholders(postmortem_publication_send(postmortem_id=postmortem.pk))
    assert len(smtp_server) == 1
    postmortem.refresh_from_db()
    assert_stakeholders(postmortem.published_to)
