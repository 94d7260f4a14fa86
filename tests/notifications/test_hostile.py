"""The hostile corpus (tests/hostile.py) through every notifications input that takes outside text:
channel names and settings, rule teams, templates and their preview, contact addresses, in the API
and in the admin. Each value is stored as typed or refused with a field error; never a 500, and
never a row half written."""

import pytest
from django.urls import reverse

from notifications.models import Channel, MessageTemplate
from tests.hostile import HOSTILE, TEN_KB
from tests.incidents.api_support import token_client

pytestmark = pytest.mark.django_db

VALUES = list(HOSTILE.values())
IDS = list(HOSTILE)
BASE = "/api/v1/notifications"


@pytest.fixture
def api(admin_user):
    return token_client(admin_user)


def ok_or_field_error(response, *fields: str) -> None:
    assert response.status_code in (200, 201, 400), response.content[:300]
    if response.status_code == 400:
        assert set(response.json()) & {*fields, "non_field_errors"}, response.json()


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_hostile_channel_input_in_the_api(api, value):
    response = api.post(
        f"{BASE}/channels/",
        {"name": value[:100], "kind": "webhook", "config": {"url": value, "to": [value]}, "secret": value},
        format="json",
    )

    ok_or_field_error(response, "name", "config", "secret")
    if response.status_code == 400:
        assert Channel.objects.filter(kind="webhook").count() == 0
    else:
        assert Channel.objects.get(pk=response.json()["id"]).name == value[:100].strip()
        assert "secret" not in response.json()


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_hostile_rules_templates_and_contacts_in_the_api(api, open_incident, value):
    template = MessageTemplate.objects.get(event_kind="incident_opened", audience="internal")
    incident = open_incident(title=f"Incident {value[:150]}")

    rule = api.post(
        f"{BASE}/rules/",
        {"name": value[:100], "event_kinds": ["resolved"], "teams": [value[:100]]},
        format="json",
    )
    preview = api.post(
        f"{BASE}/templates/{template.pk}/preview/",
        {"subject": value[:200], "body": value, "incident": incident.pk},
        format="json",
    )
    edit = api.patch(f"{BASE}/templates/{template.pk}/", {"body": value}, format="json")
    contact = api.post(f"{BASE}/contact-methods/", {"kind": "email", "address": value[:254]}, format="json")

    ok_or_field_error(rule, "name", "teams")
    ok_or_field_error(preview, "subject", "body")
    ok_or_field_error(edit, "body")
    ok_or_field_error(contact, "address")


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_hostile_input_in_the_admin_forms(client, admin_user, open_incident, value):
    client.force_login(admin_user)
    incident = open_incident()

    channel = client.post(
        reverse("admin:notifications_channel_add"),
        {"name": value[:100], "kind": "webhook", "config": value, "new_secret": value, "enabled": "on"},
    )
    preview = client.post(
        reverse("admin:notifications_messagetemplate_preview"),
        {"event_kind": "incident_opened", "subject": value[:200], "body": value, "incident": incident.pk},
    )
    contact = client.post(
        reverse("admin:notifications_contactmethod_add"),
        {"user": admin_user.pk, "kind": "sms", "address": value[:254], "enabled": "on"},
    )

    assert channel.status_code in (200, 302)
    assert preview.status_code == 200
    assert contact.status_code in (200, 302)


def test_a_huge_template_preview_is_answered(api):
    template = MessageTemplate.objects.first()

    response = api.post(
        f"{BASE}/templates/{template.pk}/preview/", {"body": "x" * TEN_KB * 50}, format="json"
    )

    assert response.status_code == 200
