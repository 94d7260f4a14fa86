"""Subscriber services: double opt-in, links, per-component fan-out, webhooks, the ledger's handling
of a subscriber who left, and the admin."""

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import include, path, reverse

from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError
from notifications.choices import DeliveryStatus, EventKind
from notifications.models import Delivery
from notifications.services.sending import delivery_send
from statuspage.admin.subscribers import SubscriberAdmin  # noqa: F401 (registers the ModelAdmin)
from statuspage.choices import ComponentStatus, SubscriberStatus
from statuspage.models import Component, Subscriber
from statuspage.services import public_incidents, subscribers
from statuspage.subscriber_links import CONFIRM, UNSUBSCRIBE, LinkInvalidError, token_make
from tests.factories import UserFactory

SYSTEM = Actor.system(source=Source.PAGE_LINK, label="tests")
# The admin as the integrator mounts it once statuspage/admin/__init__.py imports this module.
urlpatterns = [path("admin/", admin.site.urls), path("status/", include("statuspage.urls"))]


@pytest.fixture
def components(db):
    return {name: Component.objects.create(name=name, order=i) for i, name in enumerate(["API", "Web", "DB"])}


def _active(email: str, chosen=()) -> Subscriber:
    subscriber = subscribers.subscriber_subscribe(by=SYSTEM, email=email, components=chosen)
    return subscribers.subscriber_confirm(subscriber=subscriber, by=SYSTEM)


def _confirmations(subscriber: Subscriber):
    return Delivery.objects.filter(event_kind=EventKind.STATUS_PAGE_CONFIRM, target_key=f"s:{subscriber.pk}")


def test_subscribe_makes_a_pending_subscriber_and_a_confirmation_delivery(components):
    subscriber = subscribers.subscriber_subscribe(
        by=SYSTEM, email=" Reader@Example.com ", components=[components["API"]]
    )
    assert subscriber.status == SubscriberStatus.PENDING
    assert subscriber.email == "reader@example.com"
    assert list(subscriber.components.all()) == [components["API"]]
    delivery = _confirmations(subscriber).get()
    assert delivery.external == "statuspage.subscriber"
    assert delivery.event == {"subscriber": subscriber.pk, "confirm": True}
    assert delivery.channel_id is None and delivery.user_id is None


def test_subscribing_again_while_pending_resends_and_takes_the_new_choice(components):
    first = subscribers.subscriber_subscribe(by=SYSTEM, email="a@example.com", components=[components["API"]])
    again = subscribers.subscriber_subscribe(by=SYSTEM, email="A@example.com", components=[components["Web"]])
    assert again.pk == first.pk
    assert list(again.components.all()) == [components["Web"]]
    assert _confirmations(first).count() == 2


def test_an_active_subscriber_is_told_and_left_unchanged(components):
    subscriber = _active("b@example.com", [components["API"]])
    again = subscribers.subscriber_subscribe(by=SYSTEM, email="b@example.com", components=[components["DB"]])
    assert again.pk == subscriber.pk and again.status == SubscriberStatus.ACTIVE
    assert list(again.components.all()) == [components["API"]]
    assert _confirmations(subscriber).filter(event__already=True).count() == 1


def test_after_unsubscribing_a_new_subscription_starts_over(components):
    old = _active("c@example.com")
    subscribers.subscriber_unsubscribe(subscriber=old, by=SYSTEM)
    new = subscribers.subscriber_subscribe(by=SYSTEM, email="c@example.com")
    assert new.pk != old.pk and new.status == SubscriberStatus.PENDING


@pytest.mark.parametrize(
    "email", ["", "not-an-address", "a@", "x" * 250 + "@example.com", "a@b.c\nBcc: d@e.f"]
)
def test_a_bad_address_is_a_field_error_and_changes_nothing(db, email):
    with pytest.raises(ValidationError) as error:
        subscribers.subscriber_subscribe(by=SYSTEM, email=email)
    assert "email" in error.value.message_dict
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()


def test_skipping_the_opt_in_takes_a_person_who_may_change_subscribers(db, responder, admin_user):
    with pytest.raises(PermissionDeniedError):
        subscribers.subscriber_subscribe(by=SYSTEM, email="d@example.com", confirmed=True)
    with pytest.raises(PermissionDeniedError):
        subscribers.subscriber_subscribe(by=Actor(user=responder, source=Source.API), email="d@example.com")
    subscriber = subscribers.subscriber_subscribe(
        by=Actor(user=admin_user, source=Source.API), email="d@example.com", confirmed=True
    )
    assert subscriber.status == SubscriberStatus.ACTIVE and subscriber.confirmed_at
    assert not Delivery.objects.exists()


# --- Links ----------------------------------------------------------------------------------------


def test_the_confirm_link_confirms_once_and_again_is_harmless(db):
    subscriber = subscribers.subscriber_subscribe(by=SYSTEM, email="e@example.com")
    token = token_make(purpose=CONFIRM, subscriber_id=subscriber.pk, key=subscriber.key)
    assert subscribers.subscriber_confirm_link(token=token).status == SubscriberStatus.ACTIVE
    assert subscribers.subscriber_confirm_link(token=token).status == SubscriberStatus.ACTIVE


def test_links_are_refused_when_tampered_of_the_other_purpose_rekeyed_or_expired(db, settings):
    subscriber = subscribers.subscriber_subscribe(by=SYSTEM, email="f@example.com")
    confirm = token_make(purpose=CONFIRM, subscriber_id=subscriber.pk, key=subscriber.key)
    unsubscribe = token_make(purpose=UNSUBSCRIBE, subscriber_id=subscriber.pk, key=subscriber.key)
    other = Subscriber.objects.create(email="g@example.com")
    refused = [
        (confirm[:-2] + ("AA" if not confirm.endswith("AA") else "BB"), CONFIRM),
        (token_make(purpose=CONFIRM, subscriber_id=other.pk, key=subscriber.key), CONFIRM),
        (unsubscribe, CONFIRM),
        (confirm, UNSUBSCRIBE),
        ("", CONFIRM),
        ("zzzzzzzzzzzzzzzzzzzz.x.y", CONFIRM),
        ("../../etc", UNSUBSCRIBE),
    ]
    for token, purpose in refused:
        with pytest.raises(LinkInvalidError, match="not valid"):
            subscribers.subscriber_from_link(token=token, purpose=purpose)
    settings.STATUSPAGE_CONFIRM_MAX_AGE_HOURS = -1
    with pytest.raises(LinkInvalidError, match="expired"):
        subscribers.subscriber_confirm_link(token=confirm)
    settings.STATUSPAGE_CONFIRM_MAX_AGE_HOURS = 48
    Subscriber.objects.filter(pk=subscriber.pk).update(key="a-new-key")
    with pytest.raises(LinkInvalidError, match="not valid"):
        subscribers.subscriber_confirm_link(token=confirm)
    assert Subscriber.objects.get(pk=subscriber.pk).status == SubscriberStatus.PENDING


def test_the_unsubscribe_link_does_not_expire_and_repeats_harmlessly(db, settings):
    subscriber = _active("h@example.com")
    token = token_make(purpose=UNSUBSCRIBE, subscriber_id=subscriber.pk, key=subscriber.key)
    settings.STATUSPAGE_CONFIRM_MAX_AGE_HOURS = -1
    assert subscribers.subscriber_unsubscribe_link(token=token).status == SubscriberStatus.UNSUBSCRIBED
    assert subscribers.subscriber_unsubscribe_link(token=token).unsubscribed_at


# --- Fan-out --------------------------------------------------------------------------------------


def _incident(actor, components, *names):
    return public_incidents.public_incident_open(
        by=actor,
        title="Slow API responses",
        message="We are looking into slow responses.",
        components={components[name]: ComponentStatus.DEGRADED for name in names},
    )


def test_fan_out_reaches_only_active_subscribers_who_chose_a_named_component_or_none(
    components, actor, django_capture_on_commit_callbacks
):
    everything = _active("all@example.com")
    api = _active("api@example.com", [components["API"]])
    both = _active("both@example.com", [components["API"], components["DB"]])
    _active("web@example.com", [components["Web"]])
    subscribers.subscriber_subscribe(by=SYSTEM, email="pending@example.com")
    gone = _active("gone@example.com")
    subscribers.subscriber_unsubscribe(subscriber=gone, by=SYSTEM)
    with django_capture_on_commit_callbacks(execute=False):
        public = _incident(actor, components, "API", "DB")
    update = public.updates.get()
    assert subscribers.update_fan_out(update_id=update.pk) == 3
    deliveries = Delivery.objects.filter(event_kind=EventKind.STATUS_PAGE)
    assert sorted(d.event["subscriber"] for d in deliveries) == sorted([everything.pk, api.pk, both.pk])
    assert subscribers.update_fan_out(update_id=update.pk) == 0  # a repeated task adds nothing


def test_an_update_posted_without_notifying_reaches_nobody(components, actor):
    _active("quiet@example.com")
    public = _incident(actor, components, "API")
    update = public_incidents.public_update_post(
        public_incident=public, by=actor, status="identified", message="Found it.", notify=False
    )
    assert subscribers.update_fan_out(update_id=update.pk) == 0


def test_a_delivery_for_someone_who_left_since_is_dead_and_counts_against_no_channel(
    components, actor, mailoutbox
):
    subscriber = _active("left@example.com")
    update = _incident(actor, components, "API").updates.get()
    subscribers.update_fan_out(update_id=update.pk)
    subscribers.subscriber_unsubscribe(subscriber=subscriber, by=SYSTEM)
    delivery = Delivery.objects.get(event_kind=EventKind.STATUS_PAGE)
    sent = delivery_send(delivery_id=delivery.pk)
    assert sent.status == DeliveryStatus.DEAD and "unsubscribed" in sent.error
    assert sent.channel_id is None
    assert mailoutbox == []


# --- Webhook subscribers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "http://",
        "https://exa mple.com/",
        "http://h:99999/",
        "https://example.com/" + "a" * 2000,
        "http://example.com/\r\nX: y",
    ],
)
def test_a_webhook_url_must_be_http_or_https(admin_user, url):
    with pytest.raises(ValidationError) as error:
        subscribers.subscriber_webhook_add(by=Actor(user=admin_user, source=Source.API), url=url)
    assert "url" in error.value.message_dict
    assert not Subscriber.objects.exists()


def test_a_webhook_subscriber_is_active_its_url_encrypted_and_only_people_add_them(admin_user, components):
    url = "https://hooks.example.com/status?token=s3cr3t-token-value"
    subscriber, secret = subscribers.subscriber_webhook_add(
        by=Actor(user=admin_user, source=Source.ADMIN), url=url, components=[components["Web"]]
    )
    assert subscriber.status == SubscriberStatus.ACTIVE and subscriber.webhook_host == "hooks.example.com"
    assert len(secret) >= 40 and Subscriber.objects.get().webhook_secret == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_url, webhook_secret FROM statuspage_subscriber")
        stored = " ".join(cursor.fetchone())
    assert "s3cr3t-token-value" not in stored and secret not in stored
    with pytest.raises(PermissionDeniedError):
        subscribers.subscriber_webhook_add(by=SYSTEM, url=url)


# --- Admin ----------------------------------------------------------------------------------------


@pytest.fixture
def ops_admin(db):
    return UserFactory(username="opsadmin", groups=["Admin"])


@pytest.mark.urls(__name__)
def test_only_admins_see_the_list_and_it_costs_the_same_for_many_rows(
    client, ops_admin, responder, components, django_assert_num_queries
):
    url = reverse("admin:statuspage_subscriber_changelist")
    client.force_login(responder)
    assert client.get(url).status_code == 403
    client.force_login(ops_admin)
    _active("one@example.com", [components["API"]])
    client.get(url)  # warm the session and permissions caches
    with django_assert_num_queries(10) as first:
        response = client.get(url)
    assert response.status_code == 200 and b"one@example.com" in response.content
    for n in range(5):
        _active(f"more{n}@example.com", [components["API"], components["Web"]])
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get(url)
    assert b"more4@example.com" in response.content


@pytest.mark.urls(__name__)
def test_admin_exports_csv_and_unsubscribes_through_the_service(client, ops_admin, components):
    one = _active("=cmd@example.com", [components["API"]])
    two = _active("two@example.com")
    client.force_login(ops_admin)
    url = reverse("admin:statuspage_subscriber_changelist")
    response = client.post(url, {"action": "export_csv", "_selected_action": [one.pk, two.pk]})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "email,kind,status,components,created,confirmed"
    assert any(line.startswith("'=cmd@example.com,email,active,API,") for line in lines)
    client.post(url, {"action": "unsubscribe", "_selected_action": [two.pk]})
    two = Subscriber.objects.get(pk=two.pk)
    assert two.status == SubscriberStatus.UNSUBSCRIBED and two.unsubscribed_at


@pytest.mark.urls(__name__)
def test_admin_adds_a_webhook_subscriber_and_shows_its_secret_once(client, ops_admin, components):
    client.force_login(ops_admin)
    url = reverse("admin:statuspage_subscriber_add")
    bad = client.post(url, {"kind": "webhook", "url": "gopher://x"})
    assert bad.status_code == 200 and b"http://" in bad.content and not Subscriber.objects.exists()
    response = client.post(
        url, {"kind": "webhook", "url": "https://hooks.example.com/in", "components": [components["DB"].pk]}
    )
    subscriber = Subscriber.objects.get()
    assert subscriber.webhook_secret.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    listing = client.get(reverse("admin:statuspage_subscriber_changelist"))
    assert subscriber.webhook_secret.encode() not in listing.content
    assert b"hooks.example.com" in listing.content and b"https://hooks.example.com/in" not in listing.content


@pytest.mark.urls(__name__)
def test_admin_adds_an_email_subscriber_pending_unless_confirmed(client, ops_admin):
    client.force_login(ops_admin)
    url = reverse("admin:statuspage_subscriber_add")
    client.post(url, {"kind": "email", "email": "p@example.com"})
    client.post(url, {"kind": "email", "email": "q@example.com", "confirmed": "on"})
    statuses = dict(Subscriber.objects.values_list("email", "status"))
    assert statuses == {"p@example.com": "pending", "q@example.com": "active"}
