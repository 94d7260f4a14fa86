"""The notifications API: channels (secret write-only, a test send to a real receiver), rules and
templates with preview (issue 12). Deliveries and contact methods: test_api_deliveries.py."""

import pytest

from notifications.choices import ChannelKind
from notifications.models import Channel, MessageTemplate, NotificationRule
from notifications.services.configuration import rule_save
from tests.incidents.api_support import client_for, token_client
from tests.notifications.conftest import WEBHOOK_SECRET
from tests.notifications.support import SYSTEM, webhook_channel

pytestmark = pytest.mark.django_db

BASE = "/api/v1/notifications"
CHANNELS = f"{BASE}/channels/"
RULES = f"{BASE}/rules/"
TEMPLATES = f"{BASE}/templates/"
TYPED_SECRET = "whsec-typed-into-the-api-0123456789"


@pytest.fixture
def api(admin_user):
    return token_client(admin_user)


def webhook_body(receiver=None, **changes) -> dict:
    url = f"{receiver.url}/hooks/mitigate" if receiver else "https://hooks.example.com/mitigate"
    body = {
        "name": "Ops webhook",
        "kind": ChannelKind.WEBHOOK,
        "config": {"url": url},
        "secret": TYPED_SECRET,
    }
    body.update(changes)
    return body


# --- Channels ---------------------------------------------------------------------------------


def test_a_channel_is_created_and_its_secret_never_comes_back(api):
    response = api.post(CHANNELS, webhook_body(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret_set"] is True and "secret" not in body
    assert TYPED_SECRET not in response.content.decode()
    assert Channel.objects.get(pk=body["id"]).secret == TYPED_SECRET
    for url in (CHANNELS, f"{CHANNELS}{body['id']}/"):
        assert TYPED_SECRET not in api.get(url).content.decode()


def test_an_edit_without_a_secret_keeps_the_stored_one(api, webhook_receiver):
    channel = webhook_channel(webhook_receiver)

    response = api.patch(f"{CHANNELS}{channel.pk}/", {"name": "Renamed", "secret": ""}, format="json")

    assert response.status_code == 200, response.json()
    channel.refresh_from_db()
    assert (channel.name, channel.secret) == ("Renamed", WEBHOOK_SECRET)
    assert WEBHOOK_SECRET not in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": ChannelKind.SLACK_BOT, "config": {}}, "config"),
        ({"secret": ""}, "secret"),
        ({"config": {"url": "ftp://x"}}, "config"),
        ({"kind": "pigeon"}, "kind"),
        ({"config": ["not", "an", "object"]}, "config"),
        ({"name": 42}, "name"),
        ({"enabled": "yes"}, "enabled"),
        ({"colour": "red"}, "colour"),
        ({"secret": "nul\x00byte"}, "secret"),
    ],
)
def test_bad_channel_input_is_a_field_error_and_writes_nothing(api, changes, field):
    before = Channel.objects.count()

    response = api.post(CHANNELS, webhook_body(**changes), format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert Channel.objects.count() == before
    assert TYPED_SECRET not in response.content.decode()


def test_a_duplicate_name_is_a_field_error(api, webhook_receiver):
    webhook_channel(webhook_receiver)

    response = api.post(CHANNELS, webhook_body(), format="json")

    assert response.status_code == 400
    assert response.json()["name"] == ["A channel with this name exists."]


def test_the_channel_list_runs_a_constant_number_of_queries(api, webhook_receiver, django_assert_num_queries):
    for index in range(6):
        webhook_channel(webhook_receiver, name=f"Hook {index}")

    with django_assert_num_queries(3):  # Token, count, rows.
        response = api.get(CHANNELS)

    assert response.status_code == 200
    assert WEBHOOK_SECRET not in response.content.decode()


def test_test_send_reaches_the_receiver_and_answers_the_delivery(api, webhook_receiver):
    channel = webhook_channel(webhook_receiver)

    response = api.post(f"{CHANNELS}{channel.pk}/test/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["event_kind"], body["channel"]) == ("sent", "test", channel.pk)
    [request] = webhook_receiver.verified
    assert request.json["event"] == "test"
    assert WEBHOOK_SECRET not in response.content.decode()


def test_a_refused_test_send_answers_the_dead_delivery_with_its_error(api, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    webhook_receiver.fail(403)

    body = api.post(f"{CHANNELS}{channel.pk}/test/").json()

    assert body["status"] == "dead"
    assert "HTTP 403" in body["error"]


def test_a_disabled_channel_sends_no_test(api, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    api.patch(f"{CHANNELS}{channel.pk}/", {"enabled": False}, format="json")

    response = api.post(f"{CHANNELS}{channel.pk}/test/")

    assert response.status_code == 400
    assert "disabled" in response.json()["channel"][0]
    assert webhook_receiver.requests == []


def test_enabling_a_channel_resets_its_failures(api, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    Channel.objects.filter(pk=channel.pk).update(enabled=False, permanent_failures=3, disabled_reason="x")

    body = api.patch(f"{CHANNELS}{channel.pk}/", {"enabled": True}, format="json").json()

    assert (body["enabled"], body["permanent_failures"], body["disabled_reason"]) == (True, 0, "")


def test_a_channel_is_deleted(api, webhook_receiver):
    channel = webhook_channel(webhook_receiver)

    assert api.delete(f"{CHANNELS}{channel.pk}/").status_code == 204
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_channels_need_credentials_and_permissions(viewer, responder, user_factory, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    nobody = user_factory(username="nobody")

    assert client_for(None).get(CHANNELS).status_code == 401
    assert client_for(None).post(f"{CHANNELS}{channel.pk}/test/").status_code == 401
    assert client_for(nobody).get(CHANNELS).status_code == 403
    assert client_for(viewer).get(CHANNELS).status_code == 200  # Viewers see channels, never secrets.
    assert client_for(viewer).post(f"{CHANNELS}{channel.pk}/test/").status_code == 403
    assert client_for(responder).post(f"{CHANNELS}{channel.pk}/test/").status_code == 403
    assert client_for(responder).post(CHANNELS, webhook_body(name="x"), format="json").status_code == 403
    assert webhook_receiver.requests == []


# --- Rules ------------------------------------------------------------------------------------


def test_a_rule_is_created_edited_and_deleted(api, webhook_receiver, priorities):
    channel = webhook_channel(webhook_receiver)

    created = api.post(
        RULES,
        {
            "name": "P1 to ops",
            "event_kinds": ["incident_opened", "resolved"],
            "priorities": [priorities["P1"].pk],
            "channels": [channel.pk],
            "roles": ["commander"],
            "teams": ["payments"],
            "stop": True,
            "bundle_seconds": 300,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert created.json()["channels"] == [channel.pk]

    edited = api.patch(f"{RULES}{rule_id}/", {"channels": [], "position": 5}, format="json")
    assert edited.status_code == 200, edited.json()
    assert (edited.json()["channels"], edited.json()["position"]) == ([], 5)
    assert edited.json()["priorities"] == [priorities["P1"].pk]  # Not sent: kept.

    assert api.delete(f"{RULES}{rule_id}/").status_code == 204
    assert not NotificationRule.objects.filter(pk=rule_id).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "event_kinds": []}, "event_kinds"),
        ({"name": "x", "event_kinds": ["nope"]}, "event_kinds"),
        ({"name": "x", "event_kinds": ["resolved"], "channels": [99999]}, "channels"),
        ({"name": "x", "event_kinds": ["resolved"], "channels": [2**70]}, "channels"),
        ({"name": "x", "event_kinds": ["resolved"], "channels": "1"}, "channels"),
        ({"name": "x", "event_kinds": ["resolved"], "roles": ["boss"]}, "roles"),
        (
            {"name": "x", "event_kinds": ["resolved"], "create_incident_channel": True},
            "create_incident_channel",
        ),
        ({"name": "x", "event_kinds": ["resolved"], "bundle_seconds": -1}, "bundle_seconds"),
        ({"name": "x", "event_kinds": ["resolved"], "secret": "x"}, "secret"),
    ],
)
def test_bad_rule_input_is_a_field_error_and_writes_nothing(api, body, field):
    before = NotificationRule.objects.count()

    response = api.post(RULES, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert NotificationRule.objects.count() == before


def test_the_rule_list_runs_a_constant_number_of_queries(api, webhook_receiver, django_assert_num_queries):
    channel = webhook_channel(webhook_receiver)
    for index in range(5):
        rule_save(by=SYSTEM, name=f"R{index}", event_kinds=["resolved"], channels=[channel])

    # Token, count, rows, and one prefetch per relation (5).
    with django_assert_num_queries(8):
        response = api.get(RULES)

    assert response.status_code == 200


# --- Templates --------------------------------------------------------------------------------


def template_url(kind: str = "incident_opened", action: str = "") -> str:
    template = MessageTemplate.objects.get(event_kind=kind, audience="internal")
    return f"{TEMPLATES}{template.pk}/" + (f"{action}/" if action else "")


def test_templates_are_listed_with_a_constant_number_of_queries(api, django_assert_num_queries):
    with django_assert_num_queries(3):
        response = api.get(TEMPLATES, {"page_size": 100})

    assert response.status_code == 200
    assert response.json()["count"] == MessageTemplate.objects.count()


def test_a_template_is_edited(api):
    response = api.patch(template_url(), {"subject": "Opened: {{ incident.reference }}"}, format="json")

    assert response.status_code == 200, response.json()
    assert MessageTemplate.objects.get(pk=response.json()["id"]).subject == "Opened: {{ incident.reference }}"


def test_bad_template_syntax_is_400_and_saves_nothing(api):
    before = MessageTemplate.objects.get(event_kind="incident_opened", audience="internal").body

    response = api.patch(template_url(), {"body": "{% if %}"}, format="json")

    assert response.status_code == 400
    assert "Template error" in response.json()["body"][0]
    assert MessageTemplate.objects.get(event_kind="incident_opened", audience="internal").body == before


def test_templates_are_not_created_or_deleted_over_the_api(api):
    assert api.post(TEMPLATES, {}, format="json").status_code == 405
    assert api.delete(template_url()).status_code == 405


def test_preview_renders_an_edit_against_a_real_incident(api, open_incident):
    incident = open_incident(title="Checkout returns 502")

    response = api.post(
        template_url(action="preview"),
        {
            "subject": "EDITED {{ incident.reference }}",
            "body": "Now: {{ incident.title }}",
            "incident": incident.pk,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["subject"] == f"EDITED {incident.reference}"
    assert response.json()["text"] == "Now: Checkout returns 502"
    assert (
        "EDITED" not in MessageTemplate.objects.get(event_kind="incident_opened", audience="internal").subject
    )


def test_preview_of_the_stored_template_without_an_incident(api):
    response = api.post(template_url(action="preview"), {}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["subject"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "{% for %}"}, "body"),
        ({"incident": 999999}, "incident"),
        ({"incident": "abc"}, "incident"),
        ({"incident": 2**80}, "incident"),
        ({"subject": ["x"]}, "subject"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_preview_input_is_400_never_500(api, open_incident, body, field):
    response = api.post(template_url(action="preview"), body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()


def test_someone_without_notification_permissions_cannot_preview(user_factory):
    nobody = user_factory(username="nobody")
    assert client_for(nobody).post(template_url(action="preview"), {}, format="json").status_code == 403
