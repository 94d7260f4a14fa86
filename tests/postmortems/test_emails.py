"""The post-mortem emails delivered through a real SMTP server (aiosmtpd on 127.0.0.1): the
publication to stakeholders, the review invitation with its .ics, and the daily action item digest."""

import threading
import time
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import app
from postmortems.markdown import postmortem_markdown
from postmortems.models import Postmortem, ReminderDigest
from postmortems.services import (
    action_item_complete,
    action_item_create,
    action_item_drop,
    action_item_reminders_send,
    postmortem_publication_send,
    postmortem_publish,
    postmortem_review_schedule,
    review_invitation_send,
)
from postmortems.tasks import send_postmortem_publication, send_review_invitation
from tests.factories import UserFactory
from tests.incidents.support import Clock
from tests.postmortems.conftest import free_port
from tests.postmortems.mail_support import (
    EXPECTED_STAKEHOLDERS,
    SITE,
    as_,
    mail_settings,
    review_time,
)

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    mail_settings(settings)


@pytest.fixture
def eager_celery():
    """Tasks enqueued on commit run in-process, as a worker would run them."""
    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


def publish(postmortem, people, capture, *, execute: bool):
    with capture(execute=execute) as callbacks:
        published = postmortem_publish(postmortem=postmortem, by=as_(people["approver"]))
    return published, callbacks


def assert_stakeholders(addresses: list[str]) -> None:
    """Exactly the stakeholders, once each, in the documented order (role holders in any order)."""
    assert len(addresses) == len(EXPECTED_STAKEHOLDERS)
    assert addresses[:2] == EXPECTED_STAKEHOLDERS[:2]
    assert set(addresses[2:4]) == set(EXPECTED_STAKEHOLDERS[2:4])
    assert addresses[4:] == EXPECTED_STAKEHOLDERS[4:]


# --- Publication -------------------------------------------------------------------------------


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
    assert len(callbacks) == 1

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


# --- Review invitation -------------------------------------------------------------------------


def calendar_of(message) -> str:
    attachments = [a for a in message.iter_attachments() if a.get_content_type() == "text/calendar"]
    assert len(attachments) == 1
    attachment = attachments[0]
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_param("method") == "REQUEST"
    payload = attachment.get_payload(decode=True)
    return payload.decode("utf-8")


def unfold(text: str) -> list[str]:
    return text.rstrip("\r\n").replace("\r\n ", "").split("\r\n")


def ics_props(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unfold(text):
        name, _, value = line.partition(":")
        found.setdefault(name.split(";", 1)[0], []).append(value)
    return found


def schedule(postmortem, people, capture, at, attendees, *, execute: bool):
    with capture(execute=execute) as callbacks:
        postmortem = postmortem_review_schedule(
            postmortem=postmortem, by=as_(people["writer"]), attendees=attendees, at=at
        )
    return postmortem, callbacks


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


# --- Action item digest ------------------------------------------------------------------------


@pytest.fixture
def items(in_review, people):
    """Open, done and dropped items around `today` for several owners."""
    today = timezone.localdate()
    writer = as_(people["writer"])
    alice = UserFactory(username="alice", first_name="Alice", last_name="Owner", groups=["Responder"])
    bob = UserFactory(username="bob", groups=["Responder"])
    carol = UserFactory(username="carol", groups=["Responder"])

    def item(owner, days, description):
        return action_item_create(
            postmortem=in_review,
            by=writer,
            data={
                "description": description,
                "kind": "monitoring",
                "owner": owner,
                "due_date": today + timedelta(days=days),
            },
        )

    made = {
        "alice_overdue": item(alice, -2, "Add a lock timeout to migrations"),
        "alice_today": item(alice, 0, "Alert on payment error rate"),
        "alice_soon": item(alice, 3, "Canary the payments deploys"),
        "alice_later": item(alice, 4, "Write the load test"),  # Beyond the horizon.
        "alice_done": item(alice, -1, "Roll back release 42"),
        "bob_later": item(bob, 10, "Runbook for table locks"),  # Nothing due: no email.
        "carol_done": item(carol, -5, "Fix the dashboard"),
        "carol_dropped": item(carol, 1, "Rewrite the payments service"),
        "nomail_overdue": item(people["nomail"], -3, "Page the DBA on lock waits"),
    }
    action_item_complete(item=made["alice_done"], by=writer)
    action_item_complete(item=made["carol_done"], by=writer)
    action_item_drop(item=made["carol_dropped"], by=writer, reason="Out of scope")
    return {"today": today, "alice": alice, "bob": bob, "carol": carol, **made}


def item_url(item) -> str:
    return f"{SITE}/admin/postmortems/actionitem/{item.pk}/change/"


def test_digest_lists_overdue_and_due_soon_items_per_owner(smtp_server, items, people):
    assert action_item_reminders_send(today=items["today"]) == 1

    assert len(smtp_server) == 1
    delivery = smtp_server.deliveries[0]
    assert delivery.rcpt_tos == ["alice@example.com"]
    message = delivery.message
    assert message["Subject"] == "Action items: 1 overdue, 2 due soon"
    body = message.get_content()
    assert body.startswith("Hello Alice Owner,")
    overdue, _, soon = body.partition("Due soon:")
    assert "Overdue:" in overdue
    reference = items["alice_overdue"].postmortem.incident.reference
    assert f"- Add a lock timeout to migrations ({reference}; 2 days overdue)" in overdue
    assert item_url(items["alice_overdue"]) in overdue
    assert "Alert on payment error rate" in soon and item_url(items["alice_today"]) in soon
    assert "Canary the payments deploys" in soon and item_url(items["alice_soon"]) in soon
    assert soon.index("Alert on payment error rate") < soon.index("Canary the payments deploys")
    for absent in ("Write the load test", "Roll back release 42", "Runbook for table locks"):
        assert absent not in body

    digest = ReminderDigest.objects.get()
    assert digest.owner == items["alice"]
    assert digest.sent_at is not None
    assert sorted(digest.items) == sorted(items[k].pk for k in ("alice_overdue", "alice_today", "alice_soon"))


def test_owners_with_nothing_due_done_items_or_no_address_get_nothing(smtp_server, items, people):
    action_item_reminders_send(today=items["today"])
    recipients = {r for d in smtp_server.deliveries for r in d.rcpt_tos}
    assert recipients == {"alice@example.com"}
    others = [items["bob"], items["carol"], people["nomail"]]
    assert not ReminderDigest.objects.filter(owner__in=others).exists()


def test_digest_once_a_day(smtp_server, items):
    today = items["today"]
    assert action_item_reminders_send(today=today) == 1
    # A second beat run the same day (or the task redelivered): nothing more.
    assert action_item_reminders_send(today=today) == 0
    assert len(smtp_server) == 1
    # The next day, another digest: the overdue item is one day later.
    assert action_item_reminders_send(today=today + timedelta(days=1)) == 1
    assert len(smtp_server) == 2
    assert "3 days overdue" in smtp_server.messages[1].get_content()
    assert ReminderDigest.objects.filter(sent_at__isnull=False).count() == 2


def test_failed_digest_is_sent_on_the_next_run(smtp_server, settings, items):
    today = items["today"]
    settings.EMAIL_PORT = free_port()
    assert action_item_reminders_send(today=today) == 0
    assert len(smtp_server) == 0
    assert not ReminderDigest.objects.filter(sent_at__isnull=False).exists()

    settings.EMAIL_PORT = smtp_server.port
    assert action_item_reminders_send(today=today) == 1
    assert len(smtp_server) == 1
    assert action_item_reminders_send(today=today) == 0
    assert len(smtp_server) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_digest_runs_send_once(smtp_server, items):
    """Two beat runs at once: the second waits on the first one's claim and then finds it sent."""
    smtp_server.hold = threading.Event()
    results: list[int] = []
    errors: list[BaseException] = []

    def run():
        try:
            results.append(action_item_reminders_send(today=items["today"]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.2)
    time.sleep(0.5)  # Both are in: one is inside the SMTP DATA, the other waits on the claim.
    smtp_server.hold.set()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors
    assert sorted(results) == [0, 1]
    assert len(smtp_server) == 1
    assert ReminderDigest.objects.get().sent_at is not None


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
