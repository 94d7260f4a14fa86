"""The post-mortem review invitation with its .ics, delivered through a real SMTP server (aiosmtpd on
127.0.0.1): recipients and calendar fields, stale and repeated tasks, reschedules, SMTP down, and a
title with a line break (in the invitation and the publication)."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from postmortems.models import Postmortem
from postmortems.services import postmortem_publication_send, review_invitation_send
from postmortems.tasks import send_review_invitation
from tests.incidents.support import Clock
from tests.postmortems.conftest import free_port
from tests.postmortems.mail_support import (
    SITE,
    assert_stakeholders,
    calendar_of,
    ics_props,
    publish,
    review_time,
    schedule,
    unfold,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("postmortem_mail")]


def test_review_invitation_with_ics_goes_to_the_attendees_only(
    smtp_server, settings, eager_celery, in_review, people, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = "Europe/Paris"
    at = review_time()
    attendees = [people["commander"], people["tech"], people["writer"]]
    postmortem, _ = schedule(
        in_review, people, django_capture_on_commit_callbacks, at, attendees, execute=True
    )

    assert len(smtp_server) == 1
    delivery = smtp_server.deliveries[0]
    addresses = ["cmd@example.com", "tech@example.com", "writer@example.com"]
    assert sorted(delivery.rcpt_tos) == addresses
    message = delivery.message
    reference = postmortem.incident.reference
    local = timezone.localtime(at)
    assert message["Subject"] == (
        f"Invitation: Post-mortem review: {reference} Payments fail with 500 on {local:%a %d %b %Y %H:%M %Z}"
    )
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"{SITE}/admin/postmortems/postmortem/{postmortem.pk}/change/" in body

    text = calendar_of(message)
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    found = ics_props(text)
    assert found["METHOD"] == ["REQUEST"]
    assert found["UID"] == [f"postmortem-review-{postmortem.pk}@mitigate"]
    assert found["DTSTART"] == [at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")]
    assert found["DTEND"] == [(at + timedelta(hours=1)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")]
    assert sorted(found["ATTENDEE"]) == [f"mailto:{a}" for a in addresses]
    assert found["ORGANIZER"] == ["mailto:mitigate@example.com"]
    assert found["SUMMARY"] == [f"Post-mortem review: {reference} Payments fail with 500"]

    postmortem.refresh_from_db()
    assert postmortem.review_invited_for == at
    assert postmortem.review_invited_at is not None


def test_repeated_invitation_task_sends_nothing(
    smtp_server, in_review, people, django_capture_on_commit_callbacks
):
    at = review_time()
    postmortem, callbacks = schedule(
        in_review, people, django_capture_on_commit_callbacks, at, [people["tech"]], execute=False
    )
    assert len(callbacks) == 1
    assert send_review_invitation(postmortem_id=postmortem.pk, at=at.isoformat()) == 1
    assert send_review_invitation(postmortem_id=postmortem.pk, at=at.isoformat()) == 0
    assert review_invitation_send(postmortem_id=postmortem.pk, at=at) == []
    assert len(smtp_server) == 1


def test_stale_invitation_sends_nothing(smtp_server, in_review, people, django_capture_on_commit_callbacks):
    first, second = review_time(days=2), review_time(days=3)
    schedule(in_review, people, django_capture_on_commit_callbacks, first, [people["tech"]], execute=False)
    postmortem, _ = schedule(
        Postmortem.objects.get(pk=in_review.pk),
        people,
        django_capture_on_commit_callbacks,
        second,
        [people["tech"]],
        execute=False,
    )
    # The first task runs after the review moved: it sends nothing.
    assert send_review_invitation(postmortem_id=postmortem.pk, at=first.isoformat()) == 0
    assert len(smtp_server) == 0
    assert send_review_invitation(postmortem_id=postmortem.pk, at=second.isoformat()) == 1
    found = ics_props(calendar_of(smtp_server.messages[0]))
    assert found["DTSTART"] == [second.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")]
    # And the first, redelivered after all, still sends nothing.
    assert send_review_invitation(postmortem_id=postmortem.pk, at=first.isoformat()) == 0
    assert len(smtp_server) == 1


def _clock(monkeypatch) -> Clock:
    """Django's clock frozen on a whole second, moved only by the test."""
    clock = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def test_reschedule_sends_an_update_of_the_same_event(
    smtp_server, monkeypatch, eager_celery, in_review, people, django_capture_on_commit_callbacks
):
    clock = _clock(monkeypatch)
    first, second = review_time(days=2), review_time(days=4, hour=10)
    schedule(in_review, people, django_capture_on_commit_callbacks, first, [people["tech"]], execute=True)
    clock.advance(hours=3)
    postmortem, _ = schedule(
        Postmortem.objects.get(pk=in_review.pk),
        people,
        django_capture_on_commit_callbacks,
        second,
        [people["tech"], people["scribe"]],
        execute=True,
    )

    assert len(smtp_server) == 2
    original, update = (ics_props(calendar_of(m)) for m in smtp_server.messages)
    assert original["UID"] == update["UID"] == [f"postmortem-review-{postmortem.pk}@mitigate"]
    assert int(update["SEQUENCE"][0]) > int(original["SEQUENCE"][0])
    assert update["DTSTART"] == [second.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")]
    assert sorted(smtp_server.deliveries[1].rcpt_tos) == ["scribe@example.com", "tech@example.com"]


def test_reschedule_within_the_same_second_still_outranks_the_previous_invitation(
    smtp_server, monkeypatch, eager_celery, in_review, people, django_capture_on_commit_callbacks
):
    """A calendar applies an update only if its SEQUENCE is higher. Sends that land within one
    second of each other (a quick correction, two workers) must still get increasing numbers."""
    clock = _clock(monkeypatch)
    first, second = review_time(days=2), review_time(days=2, hour=16)
    schedule(in_review, people, django_capture_on_commit_callbacks, first, [people["tech"]], execute=True)
    clock.advance(milliseconds=300)
    schedule(
        Postmortem.objects.get(pk=in_review.pk),
        people,
        django_capture_on_commit_callbacks,
        second,
        [people["tech"]],
        execute=True,
    )
    assert len(smtp_server) == 2
    original, update = (ics_props(calendar_of(m)) for m in smtp_server.messages)
    assert int(update["SEQUENCE"][0]) > int(original["SEQUENCE"][0])


def test_invitation_with_smtp_down_records_nothing_and_succeeds_later(
    smtp_server, settings, in_review, people, django_capture_on_commit_callbacks
):
    at = review_time()
    postmortem, _ = schedule(
        in_review, people, django_capture_on_commit_callbacks, at, [people["tech"]], execute=False
    )
    settings.EMAIL_PORT = free_port()
    with pytest.raises(OSError):
        review_invitation_send(postmortem_id=postmortem.pk, at=at)
    postmortem.refresh_from_db()
    assert postmortem.review_invited_for is None
    settings.EMAIL_PORT = smtp_server.port
    assert review_invitation_send(postmortem_id=postmortem.pk, at=at) == ["tech@example.com"]
    assert len(smtp_server) == 1


def test_title_with_a_line_break_still_goes_out(
    smtp_server, in_review, people, django_capture_on_commit_callbacks
):
    """Titles come from the API and alerts as given; one with a line break must not make the
    publication (a header) or the invitation (a header and an .ics line) fail for good."""
    incident = in_review.incident
    type(incident).objects.filter(pk=incident.pk).update(title="Payments fail\r\nafter deploy")
    at = review_time()
    postmortem, _ = schedule(
        in_review, people, django_capture_on_commit_callbacks, at, [people["tech"]], execute=False
    )
    assert review_invitation_send(postmortem_id=postmortem.pk, at=at) == ["tech@example.com"]
    text = calendar_of(smtp_server.messages[0])
    assert "\r" not in text.replace("\r\n", "") and "\n" not in text.replace("\r\n", "")
    postmortem, _ = publish(postmortem, people, django_capture_on_commit_callbacks, execute=False)
    assert_stakeholders(postmortem_publication_send(postmortem_id=postmortem.pk))
    assert len(smtp_server) == 2
