"""The subscribers API: an Admin's list (no webhook URL or secret, a fixed number of queries),
creating email subscribers (opt-in unless confirmed by someone who may) and webhook subscribers
(secret once), DELETE unsubscribes; bad input is a 400 that changes nothing."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import include, path

from common.api.routers import Router
from notifications.choices import EventKind
from notifications.models import Delivery
from statuspage.api.subscribers import SubscriberViewSet
from statuspage.choices import SubscriberStatus
from statuspage.models import Component, Subscriber
from tests.factories import UserFactory
from tests.hostile import HOSTILE
from tests.incidents.api_support import token_client

# Routed as statuspage/api/urls.py will route it (api/v1/statuspage/subscribers/).
router = Router()
router.include_root_view = False
router.register("subscribers", SubscriberViewSet, basename="statuspage-subscriber")
urlpatterns = [path("api/v1/statuspage/", include(router.urls)), path("status/", include("statuspage.urls"))]
pytestmark = pytest.mark.urls(__name__)
URL = "/api/v1/statuspage/subscribers/"
HOOK = "https://hooks.example.com/in?token=hook-url-secret-123"


@pytest.fixture
def ops_admin(db):
    return UserFactory(username="opsadmin", groups=["Admin"])


@pytest.fixture
def api(ops_admin):
    return token_client(ops_admin)


@pytest.fixture
def components(db):
    return [Component.objects.create(name=name) for name in ("API", "Web")]


def _webhook(api, **changes) -> dict:
    response = api.post(URL, {"kind": "webhook", "url": HOOK, **changes}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_list_is_an_admins_and_costs_the_same_for_many_rows(
    api, ops_admin, responder, viewer, components, django_assert_num_queries
):
    for user in (responder, viewer):
        assert token_client(user).get(URL).status_code == 403
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code in (401, 403)
    api.post(URL, {"email": "one@example.com", "components": [components[0].pk]}, format="json")
    _webhook(api)
    with django_assert_num_queries(6):  # token, two for permissions, count, rows, components
        first = api.get(URL)
    for n in range(5):
        api.post(
            URL, {"email": f"more{n}@example.com", "components": [c.pk for c in components]}, format="json"
        )
    with django_assert_num_queries(6):
        response = api.get(URL)
    assert first.status_code == response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 7
    text = response.content.decode()
    assert "hook-url-secret" not in text and "secret" not in rows[-1]
    webhook = next(row for row in rows if row["kind"] == "webhook")
    assert webhook["address"] == "hooks.example.com" and webhook["email"] == ""
    assert set(rows[0]) == {
        "id",
        "kind",
        "email",
        "address",
        "status",
        "components",
        "created_at",
        "confirmed_at",
    }


def test_creating_an_email_subscriber_sends_the_confirmation(api, components):
    response = api.post(URL, {"email": "Reader@Example.com", "components": [components[1].pk]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending" and body["email"] == "reader@example.com"
    assert body["components"] == [components[1].pk]
    assert Delivery.objects.filter(event_kind=EventKind.STATUS_PAGE_CONFIRM).count() == 1


def test_confirmed_skips_the_opt_in_only_for_who_may_change_subscribers(api, db):
    adder = UserFactory(username="adder")
    adder.user_permissions.add(*Permission.objects.filter(codename__in=["add_subscriber", "view_subscriber"]))
    refused = token_client(adder).post(URL, {"email": "x@example.com", "confirmed": True}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert not Subscriber.objects.exists()
    response = api.post(URL, {"email": "x@example.com", "confirmed": True}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "active"
    assert not Delivery.objects.exists()


def test_a_webhook_subscriber_answers_its_secret_once(api, components):
    body = _webhook(api, components=[components[0].pk])
    subscriber = Subscriber.objects.get()
    assert body["secret"] == subscriber.webhook_secret and body["status"] == "active"
    again = api.get(f"{URL}{subscriber.pk}/").json()
    assert "secret" not in again and subscriber.webhook_secret not in str(again)
    assert "hook-url-secret" not in str(again)


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "email"),
        ({"email": "nope"}, "email"),
        ({"email": 7}, "email"),
        ({"email": "a@example.com", "url": HOOK}, "url"),
        ({"kind": "webhook"}, "url"),
        ({"kind": "webhook", "url": "file:///etc/passwd"}, "url"),
        ({"kind": "webhook", "url": "http://x\x00y"}, "url"),
        ({"kind": "sms", "email": "a@example.com"}, "kind"),
        ({"email": "a@example.com", "components": [999999]}, "components"),
        ({"email": "a@example.com", "components": "1"}, "components"),
        ({"email": "a@example.com", "components": [2**70]}, "components"),
        ({"email": "a@example.com", "status": "active"}, "status"),
        ({"email": "a@example.com", "confirmed": "yes"}, "confirmed"),
    ],
)
def test_bad_input_is_a_400_with_the_field_and_changes_nothing(api, db, data, field):
    response = api.post(URL, data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()


def test_delete_unsubscribes_and_keeps_the_row(api, responder):
    body = _webhook(api)
    assert token_client(responder).delete(f"{URL}{body['id']}/").status_code == 403
    assert api.delete(f"{URL}{body['id']}/").status_code == 204
    subscriber = Subscriber.objects.get()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED and subscriber.unsubscribed_at
    assert api.delete(f"{URL}{body['id']}/").status_code == 204  # again: no error


def test_the_list_filters_by_status_and_kind(api):
    api.post(URL, {"email": "p@example.com"}, format="json")
    _webhook(api)
    assert [r["kind"] for r in api.get(URL, {"kind": "webhook"}).json()["results"]] == ["webhook"]
    assert [r["status"] for r in api.get(URL, {"status": "pending"}).json()["results"]] == ["pending"]
    assert api.get(URL, {"status": "bogus"}).status_code == 400


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_is_a_field_error_or_stored_as_sent_never_a_500(api, name):
    value = HOSTILE[name]
    email = api.post(URL, {"email": value}, format="json")
    url = api.post(URL, {"kind": "webhook", "url": f"https://hooks.example.com/{value}"}, format="json")
    for response in (email, url):
        assert response.status_code in (201, 400), response.content
    if url.status_code == 201:  # stored as sent, surrounding blanks trimmed
        stored = Subscriber.objects.get(pk=url.json()["id"]).webhook_url
        assert stored == f"https://hooks.example.com/{value}".strip()
    if email.status_code == 400:
        assert not Subscriber.objects.filter(kind="email").exists()
