"""Double opt-in and unsubscribe end to end, through the notifications ledger to a real SMTP server
(aiosmtpd): subscribe on the page, confirm from the emailed link, get an update with its
List-Unsubscribe headers, unsubscribe with the one-click POST, get nothing more. Nothing internal
to Mitigate reaches an email."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from common.actor import Actor, Source
from incidents.services import status_update_create
from notifications.choices import DeliveryStatus, EventKind
from notifications.models import Delivery
from notifications.services.sending import delivery_send
from statuspage.choices import ComponentStatus, SubscriberStatus
from statuspage.models import Component, Subscriber
from statuspage.services import public_incidents, subscribers
from tests.notifications.conftest import smtp  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
INTERNAL_TITLE = "INTERNAL db-7 disk full, ask @alice"
INTERNAL_NOTE = "INTERNAL-NOTE customer acme.example lost orders"


@pytest.fixture(autouse=True)
def _roomy_limits(settings):
    settings.STATUSPAGE_SUBSCRIBE_PER_IP_PER_HOUR = 10**6
    settings.STATUSPAGE_CONFIRM_EMAILS_PER_DAY = 10**6
    settings.SITE_URL = "https://status.example.com"


@pytest.fixture
def components(db):
    return {name: Component.objects.create(name=name, order=i) for i, name in enumerate(["API", "Web"])}


def _send_pending() -> list[Delivery]:
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING).order_by("pk")
    return [delivery_send(delivery_id=pk) for pk in list(due.values_list("pk", flat=True))]


def _link(mail, path: str) -> str:
    text = mail.message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(rf"https://status\.example\.com(/status/{path}/[^/\s]+/)", text)
    assert found, text
    return found.group(1)


def _open_incident(actor, open_incident, components):
    incident = open_incident(title=INTERNAL_TITLE)
    status_update_create(incident=incident, by=actor, message=INTERNAL_NOTE, visibility="internal")
    return public_incidents.public_incident_open(
        by=actor,
        title="Elevated API errors",
        message="Some API requests fail; we are investigating.",
        components={components["API"]: ComponentStatus.PARTIAL_OUTAGE},
        incident=incident,
    )


def test_double_opt_in_update_and_one_click_unsubscribe(
    smtp,  # noqa: F811
    components,
    actor,
    open_incident,
    django_capture_on_commit_callbacks,
):
    browser = Client(enforce_csrf_checks=True)
    form = browser.get(reverse("statuspage:subscribe"))
    csrf = form.cookies["csrftoken"].value
    response = browser.post(
        reverse("statuspage:subscribe"),
        {"email": "reader@example.net", "components": [components["API"].pk], "csrfmiddlewaretoken": csrf},
    )
    assert response.status_code == 200 and b"Check your inbox" in response.content
    subscriber = Subscriber.objects.get()
    assert subscriber.status == SubscriberStatus.PENDING

    [sent] = _send_pending()
    assert sent.status == DeliveryStatus.SENT
    [mail] = smtp.mails
    assert mail.rcpt_tos == ["reader@example.net"]
    assert "Confirm your subscription" in mail.message["Subject"]
    confirm = _link(mail, "subscribe/confirm")

    # A mail scanner following the link confirms nothing; the button's POST does.
    page = browser.get(confirm)
    assert page.status_code == 200 and b"Confirm" in page.content
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    assert browser.post(confirm, {"csrfmiddlewaretoken": csrf}).status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.ACTIVE

    with django_capture_on_commit_callbacks(execute=False):
        public = _open_incident(actor, open_incident, components)
    assert subscribers.update_fan_out(update_id=public.updates.get().pk) == 1
    [update] = _send_pending()
    assert update.status == DeliveryStatus.SENT, update.error
    mail = smtp.mails[-1]
    assert mail.message["Subject"] == "[Status] Elevated API errors: Investigating"
    text = mail.message.get_body(preferencelist=("plain",)).get_content()
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert "Some API requests fail" in text and "API: Partial outage" in text
    assert f"View the status page: https://status.example.com/status/incidents/{public.pk}/" in text
    for body in (text, html, str(mail.message)):
        assert "INTERNAL" not in body and "alice" not in body and "acme" not in body
        assert public.incident.reference not in body
    unsubscribe = _link(mail, "unsubscribe")
    assert mail.message["List-Unsubscribe"].strip() == f"<https://status.example.com{unsubscribe}>"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # RFC 8058: the mail provider POSTs, without cookies or a CSRF token.
    provider = Client(enforce_csrf_checks=True)
    answer = provider.post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED

    with django_capture_on_commit_callbacks(execute=False):
        later = public_incidents.public_update_post(
            public_incident=public, by=actor, status="resolved", message="Fixed."
        )
    assert subscribers.update_fan_out(update_id=later.pk) == 0
    assert _send_pending() == []
    assert len(smtp.mails) == 2


def test_an_active_subscriber_who_subscribes_again_is_told_so_with_the_unsubscribe_link(
    smtp,  # noqa: F811
    db,
    client,
):
    subscriber = subscribers.subscriber_subscribe(
        by=Actor.system(source=Source.PAGE_LINK), email="known@example.net"
    )
    subscribers.subscriber_confirm(subscriber=subscriber, by=Actor.system())
    Delivery.objects.all().delete()
    response = client.post(reverse("statuspage:subscribe"), {"email": "known@example.net"})
    assert b"Check your inbox" in response.content
    _send_pending()
    [mail] = smtp.mails
    assert "already subscribed" in mail.message["Subject"]
    assert _link(mail, "unsubscribe")
    assert mail.message["List-Unsubscribe"]
    assert "subscribe/confirm" not in str(mail.message)


def test_expired_and_tampered_confirm_links_are_refused_and_change_nothing(
    smtp,  # noqa: F811
    db,
    client,
    settings,
):
    client.post(reverse("statuspage:subscribe"), {"email": "late@example.net"})
    _send_pending()
    confirm = _link(smtp.mails[0], "subscribe/confirm")
    tampered = confirm[:-3] + ("A/" if confirm[-2] != "A" else "B/")
    for url in (tampered, confirm.replace("/confirm/", "/confirm/1"), confirm.replace("confirm", "x")):
        response = client.post(url)
        assert response.status_code in (400, 404)
    settings.STATUSPAGE_CONFIRM_MAX_AGE_HOURS = -1
    expired = client.post(confirm)
    assert expired.status_code == 400 and b"expired" in expired.content
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_a_confirmation_queued_before_the_subscriber_confirmed_elsewhere_is_not_sent(
    smtp,  # noqa: F811
    db,
):
    subscriber = subscribers.subscriber_subscribe(by=Actor.system(), email="twice@example.net")
    subscribers.subscriber_confirm(subscriber=subscriber, by=Actor.system())
    [dead] = _send_pending()
    assert dead.status == DeliveryStatus.DEAD and dead.event_kind == EventKind.STATUS_PAGE_CONFIRM
    assert smtp.mails == []
