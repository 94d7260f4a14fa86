"""Webhook subscribers: each update is Statuspage's webhook JSON, POSTed signed to a local receiver
that checks the signature with its own code (tests/notifications/receivers.py)."""

import pytest

from common.actor import Actor, Source
from notifications.choices import DeliveryStatus
from notifications.models import Channel, Delivery
from notifications.services.sending import delivery_send
from statuspage.choices import ComponentStatus, SubscriberStatus
from statuspage.models import Component, Subscriber
from statuspage.selectors import page_indicator
from statuspage.services import public_incidents, subscribers
from tests.notifications.receivers import WebhookReceiver

pytestmark = pytest.mark.integration
INTERNAL_TITLE = "INTERNAL redis-3 OOM, page @bob"


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret="set-once-added").start()
    yield server
    server.stop()


@pytest.fixture
def components(db):
    return {name: Component.objects.create(name=name, order=i) for i, name in enumerate(["API", "Web"])}


def _hook(admin_user, receiver, chosen=()) -> Subscriber:
    subscriber, secret = subscribers.subscriber_webhook_add(
        by=Actor(user=admin_user, source=Source.API), url=f"{receiver.url}/statuspage", components=chosen
    )
    receiver.secret = secret
    return subscriber


def _send_pending() -> list[Delivery]:
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING).order_by("pk")
    return [delivery_send(delivery_id=pk) for pk in list(due.values_list("pk", flat=True))]


def _post(actor, open_incident, components, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        public = public_incidents.public_incident_open(
            by=actor,
            title="Website slow",
            message="Pages load slowly; we are on it.",
            impact="major",
            components={components["Web"]: ComponentStatus.DEGRADED},
            incident=open_incident(title=INTERNAL_TITLE),
        )
        update = public_incidents.public_update_post(
            public_incident=public, by=actor, status="identified", message="A cache node failed."
        )
    return public, update


def test_a_webhook_subscriber_gets_statuspage_json_signed(
    admin_user, receiver, components, actor, open_incident, django_capture_on_commit_callbacks
):
    subscriber = _hook(admin_user, receiver)
    public, update = _post(actor, open_incident, components, django_capture_on_commit_callbacks)
    assert subscribers.update_fan_out(update_id=update.pk) == 1
    [sent] = _send_pending()
    assert sent.status == DeliveryStatus.SENT, sent.error
    [request] = receiver.verified
    assert receiver.unverified == []
    body = request.json
    assert set(body) == {"meta", "page", "incident"}
    assert body["meta"]["unsubscribe"].endswith("/") and "/status/unsubscribe/" in body["meta"]["unsubscribe"]
    assert body["meta"]["documentation"].startswith("https://")
    # The page's one rule, as the banner and status.json say it: the open incident's major impact.
    assert body["page"]["status_indicator"] == page_indicator().indicator == "major"
    assert body["page"]["status_description"] == "Major Service Outage"
    assert set(body["page"]) == {"id", "status_indicator", "status_description"}
    incident = body["incident"]
    assert incident["id"] == str(public.pk) and incident["name"] == "Website slow"
    assert incident["status"] == "identified" and incident["impact"] == "major"
    assert incident["page_id"] == body["page"]["id"]
    assert [u["status"] for u in incident["incident_updates"]] == ["identified", "investigating"]
    assert incident["incident_updates"][0]["body"] == "A cache node failed."
    assert incident["incident_updates"][0]["incident_id"] == str(public.pk)
    assert incident["components"][0]["name"] == "Web"
    assert incident["components"][0]["status"] == "degraded_performance"
    for key in ("created_at", "updated_at", "monitoring_at", "resolved_at", "shortlink", "started_at"):
        assert key in incident
    raw = request.body.decode()
    assert "INTERNAL" not in raw and "bob" not in raw and public.incident.reference not in raw
    assert subscriber.webhook_secret not in raw
    # The secret and the URL stay out of the ledger's record of what was sent.
    assert subscriber.webhook_secret not in str(sent.payload) and sent.address == "127.0.0.1"
    assert sent.channel_id is None


def test_a_webhook_subscriber_with_components_hears_only_of_them(
    admin_user, receiver, components, actor, open_incident, django_capture_on_commit_callbacks
):
    _hook(admin_user, receiver, [components["API"]])
    _, update = _post(actor, open_incident, components, django_capture_on_commit_callbacks)
    assert subscribers.update_fan_out(update_id=update.pk) == 0


def test_the_meta_unsubscribe_link_stops_the_webhook(
    client, admin_user, receiver, components, actor, open_incident, django_capture_on_commit_callbacks
):
    _hook(admin_user, receiver)
    _, update = _post(actor, open_incident, components, django_capture_on_commit_callbacks)
    subscribers.update_fan_out(update_id=update.pk)
    _send_pending()
    unsubscribe = receiver.verified[0].json["meta"]["unsubscribe"]
    path = unsubscribe.split("://", 1)[1].split("/", 1)[1]
    assert client.post("/" + path).status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED


def test_a_receiver_that_refuses_makes_the_delivery_dead_without_a_channel_to_blame(
    admin_user, receiver, components, actor, open_incident, django_capture_on_commit_callbacks
):
    _hook(admin_user, receiver)
    receiver.fail(410)
    _, update = _post(actor, open_incident, components, django_capture_on_commit_callbacks)
    subscribers.update_fan_out(update_id=update.pk)
    [dead] = _send_pending()
    assert dead.status == DeliveryStatus.DEAD and "410" in dead.error
    assert dead.channel_id is None
    assert not Channel.objects.filter(permanent_failures__gt=0).exists()
