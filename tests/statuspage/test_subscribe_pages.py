"""The public subscribe, confirm and unsubscribe pages: what they show, that they are never cached,
the private mode, the same answer for every address, the rate limits and CSRF."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from common.actor import Actor
from notifications.models import Delivery
from statuspage.cache import page_changed
from statuspage.choices import SubscriberStatus
from statuspage.models import Component, ComponentGroup, PageSettings, Subscriber
from statuspage.services import subscribers
from statuspage.subscriber_links import CONFIRM, UNSUBSCRIBE, token_make
from tests.hostile import HOSTILE

URL = "/status/subscribe/"


@pytest.fixture(autouse=True)
def _roomy_limits(settings):
    settings.STATUSPAGE_SUBSCRIBE_PER_IP_PER_HOUR = 10**6
    settings.STATUSPAGE_CONFIRM_EMAILS_PER_DAY = 10**6


def _address() -> str:
    """A client address of its own: the limits' windows live in a cache shared by every test."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def test_the_form_offers_the_shown_components_by_group_and_is_never_cached(client, db):
    api = ComponentGroup.objects.create(name="API group", order=1)
    Component.objects.create(name="REST API", group=api)
    Component.objects.create(name="Website")
    Component.objects.create(name="Secret backend", shown=False)
    assert reverse("statuspage:subscribe") == URL
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert "API group" in body and "REST API" in body and "Website" in body
    assert "Secret backend" not in body
    assert "csrfmiddlewaretoken" in body
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_private_mode_asks_for_a_staff_login(
    client, db, viewer, settings, django_capture_on_commit_callbacks
):
    # A cache of this test's own: the page's settings are cached under a version that every test
    # (and every xdist worker) would share.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    with django_capture_on_commit_callbacks(execute=True):
        PageSettings.objects.update_or_create(pk=1, defaults={"private": True})
        page_changed()
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.post(URL, {"email": "x@example.com"}).status_code == 302
    assert not Subscriber.objects.exists()
    client.force_login(viewer)
    assert client.get(URL).status_code == 200


def test_every_address_gets_the_same_answer(client, db):
    pending = "pending@example.com"
    active = "active@example.com"
    subscribers.subscriber_subscribe(by=Actor.system(), email=pending)
    subscriber = subscribers.subscriber_subscribe(by=Actor.system(), email=active)
    subscribers.subscriber_confirm(subscriber=subscriber, by=Actor.system())
    Delivery.objects.all().delete()
    answers = {
        email: client.post(URL, {"email": email}, REMOTE_ADDR=_address())
        for email in ("new@example.com", pending, active)
    }
    bodies = {response.content.decode().replace(email, "") for email, response in answers.items()}
    assert {response.status_code for response in answers.values()} == {200}
    assert len(bodies) == 1
    # New and pending get the confirmation, active the "already subscribed" note.
    assert Delivery.objects.filter(event__confirm=True).count() == 2
    assert Delivery.objects.filter(event__already=True).count() == 1


@pytest.mark.parametrize(
    "data",
    [{"email": "nope"}, {}, {"email": "a@example.com", "components": ["999999"]}, {"email": "a@b.c\x00"}],
)
def test_bad_input_is_a_form_error_and_changes_nothing(client, db, data):
    response = client.post(URL, data, REMOTE_ADDR=_address())
    assert response.status_code == 400 and b"errorlist" in response.content
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()


def test_a_hidden_component_cannot_be_chosen(client, db):
    hidden = Component.objects.create(name="Hidden", shown=False)
    response = client.post(URL, {"email": "h@example.com", "components": [hidden.pk]}, REMOTE_ADDR=_address())
    assert response.status_code == 400 and not Subscriber.objects.exists()


def test_too_many_requests_from_one_client_are_refused_and_change_nothing(client, db, settings):
    settings.STATUSPAGE_SUBSCRIBE_PER_IP_PER_HOUR = 2
    address = _address()
    for n in range(2):
        assert client.post(URL, {"email": f"r{n}@example.com"}, REMOTE_ADDR=address).status_code == 200
    refused = client.post(URL, {"email": "r9@example.com"}, REMOTE_ADDR=address)
    assert refused.status_code == 429 and b"Too many requests" in refused.content
    assert int(refused["Retry-After"]) > 0
    assert not Subscriber.objects.filter(email="r9@example.com").exists()
    assert Delivery.objects.count() == 2
    assert client.post(URL, {"email": "r9@example.com"}, REMOTE_ADDR=_address()).status_code == 200


def test_too_many_confirmations_for_one_address_are_refused_whoever_asks(client, db, settings):
    settings.STATUSPAGE_CONFIRM_EMAILS_PER_DAY = 2
    email = f"{uuid.uuid4().hex}@example.com"
    for _ in range(2):
        assert client.post(URL, {"email": email}, REMOTE_ADDR=_address()).status_code == 200
    refused = client.post(URL, {"email": email.upper()}, REMOTE_ADDR=_address())
    assert refused.status_code == 429
    assert Delivery.objects.count() == 2
    # The refusal reads the same for an active subscriber: it says nothing about the address.
    assert email.encode() not in refused.content


def test_the_unsubscribe_page_asks_first_and_its_post_needs_no_csrf_token(db):
    subscriber = subscribers.subscriber_subscribe(by=Actor.system(), email="u@example.com")
    token = token_make(purpose=UNSUBSCRIBE, subscriber_id=subscriber.pk, key=subscriber.key)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("statuspage:unsubscribe", args=[token]))
    assert page.status_code == 200 and b"<form" in page.content
    assert page["Referrer-Policy"] == "no-referrer"
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    assert browser.post(reverse("statuspage:unsubscribe", args=[token])).status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED
    again = browser.get(reverse("statuspage:unsubscribe", args=[token]))
    assert b"You are unsubscribed" in again.content


def test_the_confirm_post_is_csrf_protected_and_bad_tokens_are_a_clear_page(db):
    subscriber = subscribers.subscriber_subscribe(by=Actor.system(), email="c@example.com")
    token = token_make(purpose=CONFIRM, subscriber_id=subscriber.pk, key=subscriber.key)
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(reverse("statuspage:subscribe-confirm", args=[token])).status_code == 403
    bad = browser.get(reverse("statuspage:subscribe-confirm", args=[token + "x"]))
    assert bad.status_code == 400 and b"not valid" in bad.content
    bad = browser.post(reverse("statuspage:unsubscribe", args=[token]))
    assert bad.status_code == 400 and b"not valid" in bad.content
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_link_tokens_are_cut_out_of_request_logs(db, caplog):
    subscriber = subscribers.subscriber_subscribe(by=Actor.system(), email="log@example.com")
    token = token_make(purpose=UNSUBSCRIBE, subscriber_id=subscriber.pk, key=subscriber.key)
    Client().get(reverse("statuspage:unsubscribe", args=[token + "tampered"]))  # a 400: logged
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "/status/unsubscribe/" in logged and token not in logged


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_in_the_form_is_a_form_error_never_a_500(client, db, name):
    response = client.post(
        URL, {"email": HOSTILE[name], "components": [HOSTILE[name]]}, REMOTE_ADDR=_address()
    )
    assert response.status_code == 400
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()
