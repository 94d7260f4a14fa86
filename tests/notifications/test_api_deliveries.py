"""The notifications API, continued: the delivery ledger with retry (409 in the wrong state), and
contact methods, each person's own (issue 12)."""

import pytest

from notifications.models import ContactMethod, Delivery
from notifications.services.channels import channel_test_send
from notifications.services.configuration import contact_method_save
from tests.incidents.api_support import client_for, token_client
from tests.notifications.conftest import WEBHOOK_SECRET
from tests.notifications.support import SYSTEM, dead_delivery, incident_deliveries, webhook_channel

pytestmark = pytest.mark.django_db

DELIVERIES = "/api/v1/notifications/deliveries/"
CONTACTS = "/api/v1/notifications/contact-methods/"


@pytest.fixture
def api(admin_user):
    return token_client(admin_user)


# --- Deliveries -------------------------------------------------------------------------------


@pytest.mark.parametrize("rounds", [1, 4])
def test_the_delivery_list_runs_the_same_queries_however_long(
    api, webhook_receiver, open_incident, rounds, django_assert_num_queries
):
    channel = webhook_channel(webhook_receiver)
    for _ in range(rounds):
        incident_deliveries(open_incident(), channel)
        dead_delivery(webhook_receiver, channel)

    with django_assert_num_queries(3):  # Token, count, rows with channel, user, incident and rule.
        response = api.get(DELIVERIES)

    assert response.status_code == 200
    assert response.json()["count"] == 2 * rounds
    assert WEBHOOK_SECRET not in response.content.decode()


def test_deliveries_filter_by_status_kind_channel_and_incident(api, webhook_receiver, open_incident):
    channel = webhook_channel(webhook_receiver)
    dead = dead_delivery(webhook_receiver, channel)
    incident = open_incident()
    [routed] = incident_deliveries(incident, channel)

    def ids(**params):
        response = api.get(DELIVERIES, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(status="dead") == [dead.pk]
    assert ids(event_kind="incident_opened") == [routed.pk]
    assert set(ids(channel=channel.name)) == {dead.pk, routed.pk}
    assert ids(incident=incident.reference) == [routed.pk]
    assert ids(incident=str(incident.pk)) == [routed.pk]
    assert api.get(DELIVERIES, {"status": "lost"}).status_code == 400
    assert api.get(DELIVERIES, {"created_after": "yesterday"}).status_code == 400


def test_a_delivery_shows_its_payload_error_and_attempts(api, webhook_receiver):
    delivery = dead_delivery(webhook_receiver, webhook_channel(webhook_receiver))

    body = api.get(f"{DELIVERIES}{delivery.pk}/").json()

    assert body["status"] == "dead"
    assert body["attempts"] == 1
    assert "HTTP 400" in body["error"]
    assert body["payload"]["event"] == "test"
    assert "provider_message_id" in body


def test_retry_sends_a_dead_delivery_again(api, webhook_receiver, django_capture_on_commit_callbacks):
    delivery = dead_delivery(webhook_receiver, webhook_channel(webhook_receiver))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(f"{DELIVERIES}{delivery.pk}/retry/")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    assert len(callbacks) == 1


def test_retrying_a_delivery_that_is_not_failed_or_dead_is_409(api, webhook_receiver):
    sent = channel_test_send(channel=webhook_channel(webhook_receiver), by=SYSTEM)

    response = api.post(f"{DELIVERIES}{sent.pk}/retry/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Only failed or dead deliveries can be retried; this one is sent.",
        "code": "transition_not_allowed",
    }
    assert Delivery.objects.get(pk=sent.pk).status == "sent"


def test_retrying_twice_is_409_the_second_time(api, webhook_receiver):
    delivery = dead_delivery(webhook_receiver, webhook_channel(webhook_receiver))

    assert api.post(f"{DELIVERIES}{delivery.pk}/retry/").status_code == 200
    assert api.post(f"{DELIVERIES}{delivery.pk}/retry/").status_code == 409


def test_deliveries_are_read_only(api, webhook_receiver):
    delivery = dead_delivery(webhook_receiver, webhook_channel(webhook_receiver))

    assert api.patch(f"{DELIVERIES}{delivery.pk}/", {"status": "sent"}, format="json").status_code == 405
    assert api.delete(f"{DELIVERIES}{delivery.pk}/").status_code == 405
    assert api.post(DELIVERIES, {}, format="json").status_code == 405


def test_deliveries_need_credentials_and_permissions(viewer, webhook_receiver):
    delivery = dead_delivery(webhook_receiver, webhook_channel(webhook_receiver))

    assert client_for(None).get(DELIVERIES).status_code == 401
    assert client_for(None).post(f"{DELIVERIES}{delivery.pk}/retry/").status_code == 401
    assert client_for(viewer).post(f"{DELIVERIES}{delivery.pk}/retry/").status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).status == "dead"


# --- Contact methods --------------------------------------------------------------------------


def test_a_person_manages_their_own_contact_methods(responder):
    api = token_client(responder)

    created = api.post(CONTACTS, {"kind": "sms", "address": "+4915112345678"}, format="json")
    assert created.status_code == 201, created.json()
    method_id = created.json()["id"]
    assert created.json()["user"] == responder.pk

    assert created.json()["page_delay_minutes"] == 0
    edited = api.patch(f"{CONTACTS}{method_id}/", {"enabled": False}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["enabled"] is False
    delayed = api.patch(f"{CONTACTS}{method_id}/", {"page_delay_minutes": 3}, format="json")
    assert delayed.json()["page_delay_minutes"] == 3 and delayed.json()["enabled"] is False

    assert [row["id"] for row in api.get(CONTACTS).json()["results"]] == [method_id]
    assert api.delete(f"{CONTACTS}{method_id}/").status_code == 204
    assert not ContactMethod.objects.filter(pk=method_id).exists()


def test_a_person_sees_and_touches_no_one_else_s(responder, viewer):
    theirs = contact_method_save(by=SYSTEM, user=viewer, kind="email", address="v@example.com")
    api = token_client(responder)

    assert api.get(CONTACTS).json()["results"] == []
    assert api.get(f"{CONTACTS}{theirs.pk}/").status_code == 404
    assert api.patch(f"{CONTACTS}{theirs.pk}/", {"enabled": False}, format="json").status_code == 404
    assert api.delete(f"{CONTACTS}{theirs.pk}/").status_code == 404
    refused = api.post(
        CONTACTS, {"kind": "email", "address": "x@example.com", "user": viewer.pk}, format="json"
    )
    assert refused.status_code == 403
    assert ContactMethod.objects.filter(user=viewer).count() == 1


def test_staff_with_the_permission_manage_others(api, responder, django_assert_num_queries):
    created = api.post(
        CONTACTS, {"kind": "email", "address": "r@example.com", "user": responder.pk}, format="json"
    )

    assert created.status_code == 201, created.json()
    assert created.json()["user"] == responder.pk
    contact_method_save(by=SYSTEM, user=responder, kind="sms", address="+4915112345678")
    with django_assert_num_queries(3):  # Token, count, rows.
        listed = api.get(CONTACTS, {"user": responder.pk})
    assert listed.json()["count"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "sms", "address": "0151 12345678"}, "address"),
        ({"kind": "email", "address": "not an address"}, "address"),
        ({"kind": "pager", "address": "123"}, "kind"),
        ({"kind": "email", "address": "a@example.com", "verified": True}, "verified"),
        ({"kind": "email", "address": "a@example.com", "user": 2**70}, "user"),
        ({"kind": "email", "address": "a\x00@example.com"}, "address"),
        ({"kind": "email"}, "address"),
        ({"kind": "email", "address": "a@example.com", "page_delay_minutes": -1}, "page_delay_minutes"),
        ({"kind": "email", "address": "a@example.com", "page_delay_minutes": 10**9}, "page_delay_minutes"),
    ],
)
def test_bad_contact_input_is_a_field_error_and_writes_nothing(responder, body, field):
    response = token_client(responder).post(CONTACTS, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not ContactMethod.objects.filter(user=responder).exists()


def test_a_duplicate_contact_method_is_a_field_error(responder):
    api = token_client(responder)
    api.post(CONTACTS, {"kind": "email", "address": "r@example.com"}, format="json")

    response = api.post(CONTACTS, {"kind": "email", "address": "r@example.com"}, format="json")

    assert response.status_code == 400
    assert "exists" in response.json()["address"][0]


def test_contact_methods_need_credentials():
    assert client_for(None).get(CONTACTS).status_code == 401
    assert client_for(None).post(CONTACTS, {}, format="json").status_code == 401
