"""REST API: timeline, notes, roles and status updates of an incident."""

import pytest

from common.actor import Actor, Source
from incidents.choices import EventKind, Role
from incidents.models import RoleAssignment, StatusUpdate
from incidents.services import incident_note_add
from tests.incidents.api_support import client_for, drive, incidents_url, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(responder):
    return client_for(responder)


# --- Timeline ----------------------------------------------------------------------------------------


def test_timeline_lists_events_oldest_first(api, open_incident, actor):
    incident = drive(open_incident(), "on_hold", by=actor)

    response = api.get(incidents_url(incident, "timeline"))

    assert response.status_code == 200
    assert response.data["count"] == 3
    rows = response.data["results"]
    assert [row["kind"] for row in rows] == [EventKind.CREATED, EventKind.ACKNOWLEDGED, EventKind.HELD]
    assert set(rows[0]) == {
        "id",
        "kind",
        "occurred_at",
        "actor",
        "actor_name",
        "source",
        "message",
        "details",
        "pinned",
        "pinned_by",
        "pinned_at",
    }
    assert rows[0]["actor"] == "responder"
    assert rows[0]["actor_name"] == "responder"
    assert rows[0]["source"] == "api"
    assert rows[2]["details"]["reason"] == "Waiting for the vendor"
    assert rows[0]["pinned"] is False


def test_timeline_paginates(api, open_incident, actor):
    incident = open_incident()
    for i in range(4):
        incident_note_add(incident=incident, by=actor, message=f"note {i}")

    first = api.get(incidents_url(incident, "timeline"), {"page_size": 2})
    last = api.get(incidents_url(incident, "timeline"), {"page_size": 2, "page": 3})

    assert first.data["count"] == 5
    assert [r["kind"] for r in first.data["results"]] == ["created", "note"]
    assert first.data["next"]
    assert [r["message"] for r in last.data["results"]] == ["note 3"]


def test_timeline_of_a_system_actor_has_no_username(api, open_incident):
    incident = open_incident(by=Actor.system(label="log-monitor"))

    row = api.get(incidents_url(incident, "timeline")).data["results"][0]

    assert row["actor"] is None
    assert row["actor_name"] == "log-monitor"


# token + user (1), permissions (2), the incident (1), count (1), events with actors (1)
TIMELINE_QUERIES = 6


@pytest.mark.parametrize("notes", [0, 40])
def test_timeline_runs_a_constant_number_of_queries(
    responder, open_incident, user_factory, notes, django_assert_num_queries
):
    incident = open_incident()
    authors = [user_factory(groups=["Responder"]) for _ in range(3)]
    for i in range(notes):
        incident_note_add(
            incident=incident, by=Actor(user=authors[i % 3], source=Source.API), message=f"n{i}"
        )
    client = token_client(responder)

    with django_assert_num_queries(TIMELINE_QUERIES):
        response = client.get(incidents_url(incident, "timeline"))

    assert response.data["count"] == notes + 1


# --- Notes ------------------------------------------------------------------------------------------


def test_note_is_added_to_the_timeline(api, open_incident, responder):
    incident = open_incident()

    response = api.post(incidents_url(incident, "notes"), {"message": "  Rollback started  "})

    assert response.status_code == 201, response.data
    assert response.data["kind"] == "note"
    assert response.data["message"] == "Rollback started"
    assert response.data["actor"] == "responder"
    assert incident.timeline_events.filter(kind=EventKind.NOTE, source="api").count() == 1


def test_empty_note_is_400(api, open_incident):
    response = api.post(incidents_url(open_incident(), "notes"), {"message": ""})

    assert response.status_code == 400
    assert response.data["message"]


# --- Roles ------------------------------------------------------------------------------------------


def test_assign_and_clear_a_role(api, open_incident, user_factory):
    user_factory(username="bob")
    incident = open_incident()

    assigned = api.post(incidents_url(incident, "roles"), {"role": "scribe", "user": "bob"})
    cleared = api.post(incidents_url(incident, "roles"), {"role": "scribe", "user": None})

    assert assigned.status_code == 200, assigned.data
    assert assigned.data["roles"]["scribe"] == "bob"
    assert cleared.status_code == 200
    assert cleared.data["roles"]["scribe"] is None
    assert not RoleAssignment.objects.filter(incident=incident).exists()
    kinds = list(incident.timeline_events.values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.ROLE_ASSIGNED, EventKind.ROLE_UNASSIGNED]


def test_assign_the_commander_role(api, open_incident, user_factory):
    user_factory(username="bob")
    incident = open_incident()

    response = api.post(incidents_url(incident, "roles"), {"role": Role.COMMANDER, "user": "bob"})

    assert response.status_code == 200
    assert response.data["commander"] == "bob"
    assert response.data["roles"]["commander"] == "bob"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "janitor", "user": None}, "role"),
        ({"role": "scribe", "user": "ghost"}, "user"),
        ({}, "role"),
    ],
)
def test_bad_role_input_is_400(api, open_incident, body, field):
    response = api.post(incidents_url(open_incident(), "roles"), body)

    assert response.status_code == 400
    assert response.data[field]


# --- Status updates ---------------------------------------------------------------------------------


def test_post_a_status_update(api, open_incident, actor):
    incident = drive(open_incident(), "in_progress", by=actor)

    response = api.post(
        incidents_url(incident, "status-updates"),
        {"message": "Fix deployed, monitoring", "visibility": "public", "phase": "monitoring"},
    )

    assert response.status_code == 201, response.data
    assert response.data["visibility"] == "public"
    assert response.data["phase"] == "monitoring"
    assert response.data["author"] == "responder"
    incident.refresh_from_db()
    assert incident.phase == "monitoring"
    assert incident.timeline_events.filter(kind=EventKind.STATUS_UPDATE, source="api").exists()


def test_status_update_defaults_to_internal(api, open_incident):
    response = api.post(incidents_url(open_incident(), "status-updates"), {"message": "Looking"})

    assert response.status_code == 201
    assert response.data["visibility"] == "internal"


def test_list_status_updates_newest_first(api, open_incident):
    incident = open_incident()
    for message in ("first", "second"):
        api.post(incidents_url(incident, "status-updates"), {"message": message})

    response = api.get(incidents_url(incident, "status-updates"))

    assert response.status_code == 200
    assert [r["message"] for r in response.data["results"]] == ["second", "first"]


def test_status_update_on_a_closed_incident_is_409(api, open_incident, actor):
    incident = open_incident()
    api.post(incidents_url(incident, "dismiss"), {"reason": "False alarm"})

    response = api.post(incidents_url(incident, "status-updates"), {"message": "Still looking"})

    assert response.status_code == 409
    assert response.data["code"] == "transition_not_allowed"
    assert not StatusUpdate.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"message": ""}, "message"), ({"message": "x", "visibility": "secret"}, "visibility"), ({}, "message")],
)
def test_bad_status_update_is_400(api, open_incident, body, field):
    response = api.post(incidents_url(open_incident(), "status-updates"), body)

    assert response.status_code == 400
    assert response.data[field]
