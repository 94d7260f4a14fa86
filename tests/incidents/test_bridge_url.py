"""The bridge URL (war room): set on create and edit, in admin and API, validated, on the timeline."""

import pytest

from incidents.choices import EventKind
from incidents.models import Incident
from tests.admin_support import change_url, form_data
from tests.incidents.api_support import client_for, incidents_url

pytestmark = pytest.mark.django_db

ADD = "/admin/incidents/incident/add/"
BRIDGE = "https://meet.example.com/inc-war-room"


@pytest.fixture
def api(responder):
    return client_for(responder)


def test_api_create_sets_the_bridge_url(api):
    response = api.post(incidents_url(), {"title": "Checkout down", "priority": "P1", "bridge_url": BRIDGE})

    assert response.status_code == 201, response.data
    assert response.data["bridge_url"] == BRIDGE
    assert Incident.objects.get(pk=response.data["id"]).bridge_url == BRIDGE


def test_api_patch_sets_and_clears_it_on_the_timeline(api, open_incident):
    incident = open_incident()
    url = f"{incidents_url()}{incident.pk}/"

    set_response = api.patch(url, {"bridge_url": BRIDGE})
    cleared = api.patch(url, {"bridge_url": ""})

    assert set_response.status_code == 200, set_response.data
    assert set_response.data["bridge_url"] == BRIDGE
    assert cleared.status_code == 200
    incident.refresh_from_db()
    assert incident.bridge_url == ""
    updates = incident.timeline_events.filter(kind=EventKind.UPDATED).order_by("id")
    assert [event.details["fields"] for event in updates] == [["bridge_url"], ["bridge_url"]]


@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "not a url", "ssh://host/x", "https://" + "a" * 300 + ".example.com"]
)
def test_api_refuses_what_is_not_a_web_link(api, open_incident, value):
    incident = open_incident()

    response = api.patch(f"{incidents_url()}{incident.pk}/", {"bridge_url": value})

    assert response.status_code == 400
    assert "bridge_url" in response.data
    incident.refresh_from_db()
    assert incident.bridge_url == ""


def test_admin_add_and_change_take_the_bridge_url(client, responder, priorities):
    client.force_login(responder)
    page = client.get(ADD)

    response = client.post(
        ADD, form_data(page, title="War room", priority=priorities["P2"].pk, bridge_url=BRIDGE, _continue="1")
    )

    assert response.status_code == 302
    incident = Incident.objects.get(title="War room")
    assert incident.bridge_url == BRIDGE
    page = client.get(change_url(incident))
    assert BRIDGE in page.content.decode()

    refused = client.post(change_url(incident), form_data(page, bridge_url="javascript:alert(1)"))

    assert refused.status_code == 200
    assert "Enter a valid URL." in refused.content.decode()
    incident.refresh_from_db()
    assert incident.bridge_url == BRIDGE
