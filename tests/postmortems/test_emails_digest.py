"""The daily action item digest, delivered through a real SMTP server (aiosmtpd on 127.0.0.1): what
each owner gets, once a day, a failed send retried, and two concurrent runs sending once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from postmortems.models import ReminderDigest
from postmortems.services import (
    action_item_complete,
    action_item_create,
    action_item_drop,
    action_item_reminders_send,
)
from tests.factories import UserFactory
from tests.postmortems.conftest import free_port
from tests.postmortems.mail_support import SITE, as_

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("postmortem_mail")]


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
