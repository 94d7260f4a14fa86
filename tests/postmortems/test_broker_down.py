"""Nothing is lost when the broker is down (issue 10, item 12): publishing a post-mortem and
scheduling its review answer normally from the admin and the API, the row records the email as
pending, and the beat sweeper sends it later through a real SMTP server, exactly once."""

import importlib
import logging
import re
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from common.models import OutboxMessage
from postmortems.choices import PostmortemStatus, PublicationEmail
from postmortems.models import Postmortem
from postmortems.services import postmortem_emails_sweep, postmortem_publication_send, review_invitation_send
from postmortems.tasks import send_postmortem_publication, send_review_invitation
from tests.conftest import celery_broker
from tests.enqueued import enqueued
from tests.incidents.api_support import client_for
from tests.postmortems.conftest import free_port
from tests.postmortems.mail_support import EXPECTED_STAKEHOLDERS, mail_settings, review_time

pytestmark = pytest.mark.integration
# Nothing listens on port 1: connections are refused at once, as when Redis is stopped.
DEAD_BROKER = "redis://127.0.0.1:1/0"
LOGGER = "common.outbox"


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    mail_settings(settings)


def broker_down(capture, caplog):
    """The broker refuses connections while the request runs; its on-commit callbacks run too."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    return celery_broker(DEAD_BROKER, settings.BROKER_FAIL_FAST), capture(execute=True)


def later(minutes: int = 3):
    return timezone.now() + timedelta(minutes=minutes)


def assert_publication_swept_once(postmortem: Postmortem, smtp_server) -> None:
    postmortem.refresh_from_db()
    assert (postmortem.status, postmortem.publication_email, postmortem.published_to) == (
        PostmortemStatus.PUBLISHED,
        PublicationEmail.PENDING,
        [],
    )
    assert len(smtp_server) == 0
    assert postmortem_emails_sweep() == 0  # Within the grace period: still the task's to send.
    assert postmortem_emails_sweep(now=later()) == 1
    assert len(smtp_server) == 1
    assert sorted(smtp_server.deliveries[0].rcpt_tos) == sorted(EXPECTED_STAKEHOLDERS)
    # Another sweep, the task message delivered after all, a direct call: nothing more goes out.
    assert postmortem_emails_sweep(now=later(10)) == 0
    assert send_postmortem_publication(postmortem_id=postmortem.pk) == 0
    assert postmortem_publication_send(postmortem_id=postmortem.pk) == []
    assert len(smtp_server) == 1
    postmortem.refresh_from_db()
    assert postmortem.publication_email == PublicationEmail.SENT
    assert sorted(postmortem.published_to) == sorted(EXPECTED_STAKEHOLDERS)


def test_publish_in_the_admin_while_the_broker_is_down(
    client, smtp_server, in_review, people, django_capture_on_commit_callbacks, caplog
):
    client.force_login(people["approver"])
    url = reverse("admin:postmortems_postmortem_transition", args=[in_review.pk, "publish"])
    broker, callbacks = broker_down(django_capture_on_commit_callbacks, caplog)
    with broker, callbacks as ran:
        response = client.post(url, {"seen_status": "in_review"})

    assert response.status_code == 302
    assert response.url == reverse("admin:postmortems_postmortem_change", args=[in_review.pk])
    # Besides the publication email, the notifications route their "post-mortem published" event.
    assert enqueued(ran, "postmortems.") == ["postmortems.tasks.send_postmortem_publication"]
    assert "Broker unavailable; postmortems.tasks.send_postmortem_publication" in caplog.text
    kept = OutboxMessage.objects.get(task_name="postmortems.tasks.send_postmortem_publication")
    assert kept.kwargs == {"postmortem_id": in_review.pk}
    page = client.get(response.url).content.decode()
    assert "was published." in page
    assert re.search(r"Publication email:</label>\s*<div class=\"readonly\">Pending</div>", page)
    assert_publication_swept_once(in_review, smtp_server)
    page = client.get(response.url).content.decode()
    assert f"Sent to {len(EXPECTED_STAKEHOLDERS)} address(es)" in page


def test_publish_through_the_api_while_the_broker_is_down(
    smtp_server, in_review, people, django_capture_on_commit_callbacks, caplog
):
    api = client_for(people["approver"])
    broker, callbacks = broker_down(django_capture_on_commit_callbacks, caplog)
    with broker, callbacks:
        response = api.post(f"/api/v1/postmortems/{in_review.pk}/publish/", {}, format="json")

    assert response.status_code == 200, response.data
    assert response.data["status"] == "published"
    assert "Broker unavailable; postmortems.tasks.send_postmortem_publication" in caplog.text
    assert_publication_swept_once(in_review, smtp_server)


def assert_invitation_swept_once(postmortem: Postmortem, at, smtp_server) -> None:
    postmortem.refresh_from_db()
    assert postmortem.review_at == at
    assert postmortem.review_invitation_pending and postmortem.review_invited_for is None
    assert len(smtp_server) == 0
    assert postmortem_emails_sweep() == 0
    assert postmortem_emails_sweep(now=later()) == 1
    assert len(smtp_server) == 1
    assert smtp_server.deliveries[0].rcpt_tos == ["tech@example.com"]
    assert postmortem_emails_sweep(now=later(10)) == 0
    assert send_review_invitation(postmortem_id=postmortem.pk, at=at.isoformat()) == 0
    assert review_invitation_send(postmortem_id=postmortem.pk, at=at) == []
    assert len(smtp_server) == 1
    postmortem.refresh_from_db()
    assert not postmortem.review_invitation_pending and postmortem.review_sequence == 1


def test_schedule_the_review_in_the_admin_while_the_broker_is_down(
    client, smtp_server, in_review, people, django_capture_on_commit_callbacks, caplog
):
    client.force_login(people["writer"])
    at = timezone.localtime(review_time()).replace(second=0, microsecond=0)
    url = reverse("admin:postmortems_postmortem_review", args=[in_review.pk])
    broker, callbacks = broker_down(django_capture_on_commit_callbacks, caplog)
    with broker, callbacks:
        response = client.post(url, {"at": at.strftime("%Y-%m-%dT%H:%M"), "attendees": [people["tech"].pk]})

    assert response.status_code == 302, response.context and response.context["form"].errors
    assert "Broker unavailable; postmortems.tasks.send_review_invitation" in caplog.text
    assert_invitation_swept_once(in_review, at, smtp_server)


def test_schedule_the_review_through_the_api_while_the_broker_is_down(
    smtp_server, in_review, people, django_capture_on_commit_callbacks, caplog
):
    at = review_time()
    api = client_for(people["writer"])
    broker, callbacks = broker_down(django_capture_on_commit_callbacks, caplog)
    with broker, callbacks:
        response = api.post(
            f"/api/v1/postmortems/{in_review.pk}/schedule-review/",
            {"at": at.isoformat(), "attendees": ["tech"]},
            format="json",
        )

    assert response.status_code == 200, response.data
    assert "Broker unavailable; postmortems.tasks.send_review_invitation" in caplog.text
    assert_invitation_swept_once(in_review, at, smtp_server)


def test_the_sweeper_retries_a_failing_send_and_records_why(
    smtp_server, settings, in_review, people, django_capture_on_commit_callbacks
):
    api = client_for(people["approver"])
    with django_capture_on_commit_callbacks(execute=False):  # The task message is lost.
        api.post(f"/api/v1/postmortems/{in_review.pk}/publish/", {}, format="json")
    settings.EMAIL_PORT = free_port()  # And the mail server is down too.

    assert postmortem_emails_sweep(now=later()) == 0
    in_review.refresh_from_db()
    assert in_review.publication_email == PublicationEmail.PENDING
    assert "ConnectionRefusedError" in in_review.publication_error

    settings.EMAIL_PORT = smtp_server.port
    assert postmortem_emails_sweep(now=later(5)) == 1
    in_review.refresh_from_db()
    assert (in_review.publication_email, in_review.publication_error) == (PublicationEmail.SENT, "")
    assert len(smtp_server) == 1


def test_a_review_already_held_is_not_invited_to_and_old_publications_are_left_alone(
    smtp_server, in_review, people, django_capture_on_commit_callbacks
):
    at = review_time(days=1)
    api = client_for(people["writer"])
    with django_capture_on_commit_callbacks(execute=False):
        api.post(
            f"/api/v1/postmortems/{in_review.pk}/schedule-review/",
            {"at": at.isoformat(), "attendees": ["tech"]},
            format="json",
        )
    assert postmortem_emails_sweep(now=at + timedelta(minutes=1)) == 0

    with django_capture_on_commit_callbacks(execute=False):
        client_for(people["approver"]).post(f"/api/v1/postmortems/{in_review.pk}/publish/", {}, format="json")
    assert postmortem_emails_sweep(now=later(60 * 24 * 8)) == 0
    assert len(smtp_server) == 0


def test_migration_marks_sent_and_unsent_publications(in_review, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        client_for(people["approver"]).post(f"/api/v1/postmortems/{in_review.pk}/publish/", {}, format="json")
    # As rows were before the outbox: no state; one was sent (has addresses), one was not.
    Postmortem.objects.filter(pk=in_review.pk).update(publication_email="")
    migration = importlib.import_module("postmortems.migrations.0003_publication_outbox")

    migration.mark_existing(django_apps, None)
    assert Postmortem.objects.get(pk=in_review.pk).publication_email == PublicationEmail.PENDING

    Postmortem.objects.filter(pk=in_review.pk).update(publication_email="", published_to=["a@example.com"])
    migration.mark_existing(django_apps, None)
    assert Postmortem.objects.get(pk=in_review.pk).publication_email == PublicationEmail.SENT
