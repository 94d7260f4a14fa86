"""REST API: who may do what, the schema and docs, and oversized bodies."""

import pytest
from django.conf import settings
from django.urls import reverse

from incidents.models import Incident, Service, StatusUpdate
from tests.incidents.api_support import client_for, incidents_url, token_client

pytestmark = pytest.mark.django_db

GROUPS = ["anonymous", "Viewer", "Responder", "Approver", "Admin"]


@pytest.fixture
def client_as(user_factory):
    def make(group: str):
        if group == "anonymous":
            return client_for(None)
        return token_client(user_factory(username=f"{group.lower()}-member", groups=[group]))

    return make


def expected(group: str, allowed: int, *, who: tuple[str, ...]) -> int:
    if group == "anonymous":
        return 401
    return allowed if group in who else 403


WRITERS = ("Responder", "Approver", "Admin")


@pytest.mark.parametrize("group", GROUPS)
def test_list_incidents(client_as, open_incident, group):
    open_incident()

    response = client_as(group).get(incidents_url())

    assert response.status_code == expected(group, 200, who=("Viewer", *WRITERS))


@pytest.mark.parametrize("group", GROUPS)
def test_retrieve_incident_and_its_timeline(client_as, open_incident, group):
    incident = open_incident()
    client = client_as(group)

    for url in (incidents_url(incident), incidents_url(incident, "timeline")):
        assert client.get(url).status_code == expected(group, 200, who=("Viewer", *WRITERS))


@pytest.mark.parametrize("group", GROUPS)
def test_create_incident(client_as, priorities, group):
    response = client_as(group).post(incidents_url(), {"title": "Disk full", "priority": "P3"})

    assert response.status_code == expected(group, 201, who=WRITERS)
    assert Incident.objects.exists() == (response.status_code == 201)


@pytest.mark.parametrize("group", GROUPS)
def test_edit_incident(client_as, open_incident, group):
    incident = open_incident()

    response = client_as(group).patch(incidents_url(incident), {"title": "Renamed"})

    assert response.status_code == expected(group, 200, who=WRITERS)


@pytest.mark.parametrize("group", GROUPS)
def test_transition(client_as, open_incident, group):
    incident = open_incident()

    response = client_as(group).post(incidents_url(incident, "acknowledge"))

    assert response.status_code == expected(group, 200, who=WRITERS)
    incident.refresh_from_db()
    assert (incident.status == "in_progress") == (response.status_code == 200)
    if response.status_code == 403:
        assert response.data["code"] == "permission_denied"


@pytest.mark.parametrize("group", GROUPS)
def test_note_and_role(client_as, open_incident, group):
    incident = open_incident()
    client = client_as(group)

    note = client.post(incidents_url(incident, "notes"), {"message": "Looking"})
    role = client.post(incidents_url(incident, "roles"), {"role": "scribe", "user": "responder"})

    assert note.status_code == expected(group, 201, who=WRITERS)
    assert role.status_code == expected(group, 200, who=WRITERS)


@pytest.mark.parametrize("group", GROUPS)
def test_status_update(client_as, open_incident, group):
    incident = open_incident()
    client = client_as(group)

    posted = client.post(incidents_url(incident, "status-updates"), {"message": "Investigating"})
    listed = client.get(incidents_url(incident, "status-updates"))

    assert posted.status_code == expected(group, 201, who=WRITERS)
    assert StatusUpdate.objects.exists() == (posted.status_code == 201)
    assert listed.status_code == expected(group, 200, who=("Viewer", *WRITERS))


@pytest.mark.parametrize("group", GROUPS)
def test_suggest_priority_needs_only_view(client_as, group):
    response = client_as(group).post("/api/v1/incidents/suggest-priority/", {"services_down": 1})

    assert response.status_code == expected(group, 200, who=("Viewer", *WRITERS))


@pytest.mark.parametrize("group", GROUPS)
def test_create_service(client_as, group):
    response = client_as(group).post("/api/v1/services/", {"name": "Payments API"})

    assert response.status_code == expected(group, 201, who=("Admin",))
    assert Service.objects.filter(name="Payments API").exists() == (response.status_code == 201)


@pytest.mark.parametrize("group", GROUPS)
def test_read_catalog(client_as, service_factory, group):
    service_factory()
    client = client_as(group)

    for url in ("/api/v1/services/", "/api/v1/priorities/"):
        assert client.get(url).status_code == expected(group, 200, who=("Viewer", *WRITERS))


def test_superuser_may_do_everything(admin_user, open_incident):
    client = client_for(admin_user)
    incident = open_incident()

    assert client.post(incidents_url(incident, "acknowledge")).status_code == 200
    assert client.post("/api/v1/services/", {"name": "Search"}).status_code == 201


def test_user_without_any_group_sees_nothing(user_factory, open_incident):
    client = token_client(user_factory())
    open_incident()

    assert client.get(incidents_url()).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/",
        "/api/v1/incidents/",
        "/api/v1/incidents/1/",
        "/api/v1/incidents/1/timeline/",
        "/api/v1/incidents/1/status-updates/",
        "/api/v1/services/",
        "/api/v1/services/1/",
        "/api/v1/priorities/",
        "/api/v1/priorities/1/",
        "/api/schema/",
    ],
)
def test_anonymous_reads_are_refused(db, url):
    response = client_for(None).get(url, HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "action", ["acknowledge", "hold", "resume", "resolve", "reopen", "close", "dismiss", "notes", "roles"]
)
def test_anonymous_writes_are_refused(open_incident, action):
    incident = open_incident()

    response = client_for(None).post(incidents_url(incident, action), {"reason": "x"})

    assert response.status_code == 401


def test_session_authentication_works_for_the_browser(client, responder):
    """The admin's session reaches the API too (Swagger UI relies on it)."""
    client.force_login(responder)

    assert client.get(incidents_url()).status_code == 200


# --- Schema and docs --------------------------------------------------------------------------------


def test_schema_is_served_to_authenticated_users(viewer):
    response = client_for(viewer).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/incidents/",
        "/api/v1/incidents/{id}/",
        "/api/v1/incidents/{id}/dismiss/",
        "/api/v1/incidents/{id}/timeline/",
        "/api/v1/incidents/{id}/status-updates/",
        "/api/v1/incidents/suggest-priority/",
        "/api/v1/services/",
        "/api/v1/priorities/",
    ):
        assert path in paths
    hold = paths["/api/v1/incidents/{id}/hold/"]["post"]
    assert "409" in hold["responses"]
    assert hold["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ReasonInputRequest")
    assert "put" not in paths["/api/v1/incidents/{id}/"]
    assert "delete" not in paths["/api/v1/incidents/{id}/"]


def test_swagger_ui_needs_a_login(client, responder):
    assert client.get(reverse("api-docs")).status_code == 302
    client.force_login(responder)
    assert client.get(reverse("api-docs")).status_code == 200


# --- Oversized bodies -------------------------------------------------------------------------------


def oversized_json() -> bytes:
    padding = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    return b'{"title": "' + padding + b'", "priority": "P3"}'


def test_oversized_json_body_is_413(responder, priorities):
    response = token_client(responder).post(
        incidents_url(), oversized_json(), content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["detail"]
    assert not Incident.objects.exists()


def test_oversized_form_body_is_413(responder, open_incident):
    incident = open_incident()
    body = "message=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = client_for(responder).post(
        incidents_url(incident, "notes"), body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_oversized_body_from_an_anonymous_client_is_401_unread(db):
    response = client_for(None).post(incidents_url(), oversized_json(), content_type="application/json")

    assert response.status_code == 401


def test_body_just_under_the_limit_is_read(responder, open_incident):
    incident = open_incident()
    overhead = len(b'{"message": ""}')
    body = b'{"message": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - overhead) + b'"}'

    response = client_for(responder).post(
        incidents_url(incident, "notes"), body, content_type="application/json"
    )

    assert response.status_code == 201


def test_multipart_bodies_are_refused_unread(responder, open_incident):
    incident = open_incident()

    response = client_for(responder).post(
        incidents_url(incident, "notes"), {"message": "x"}, format="multipart"
    )

    assert response.status_code == 415
    assert response.data["code"] == "unsupported_media_type"


def test_form_bodies_are_accepted(responder, open_incident):
    incident = open_incident()

    response = client_for(responder).post(
        incidents_url(incident, "notes"),
        "message=Rollback+started",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 201, response.data


# --- Browsable API ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["", "incidents/", "incidents/{id}/", "incidents/{id}/timeline/", "services/"]
)
def test_browsable_api_renders(client, responder, open_incident, path):
    incident = open_incident()
    client.force_login(responder)

    response = client.get("/api/v1/" + path.format(id=incident.pk), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
