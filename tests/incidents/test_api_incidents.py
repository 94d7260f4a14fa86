"""REST API: incident list, create, retrieve and edit, and the list's query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.choices import EventKind, Role
from incidents.models import Incident, TimelineEvent
from postmortems.models import Postmortem
from tests.incidents.api_support import client_for, drive, incidents_url, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(responder):
    return client_for(responder)


# --- Create ---------------------------------------------------------------------------------------


def test_create_opens_an_incident_through_the_service(
    api, responder, priorities, service_factory, user_factory
):
    web = service_factory(slug="web")
    db = service_factory(slug="db")
    bob = user_factory(username="bob", groups=["Responder"])

    response = api.post(
        incidents_url(),
        {
            "title": "Checkout returns 502",
            "priority": "P2",
            "services": ["web", "db"],
            "assignee": "bob",
            "commander": "responder",
            "users_affected": "many",
            "services_down": 2,
            "is_drill": True,
        },
    )

    assert response.status_code == 201, response.data
    incident = Incident.objects.get(pk=response.data["id"])
    assert response.data["reference"] == incident.reference
    assert incident.reference.startswith("INC-")
    assert response.data["priority"] == "P2"
    assert response.data["priority_id"] == priorities["P2"].pk
    assert sorted(response.data["services"]) == ["db", "web"]
    assert set(incident.services.all()) == {web, db}
    assert response.data["assignee"] == "bob"
    assert incident.assignee == bob
    assert response.data["status"] == "new"
    assert response.data["created_by"] == "responder"
    assert response.data["roles"] == {
        Role.COMMANDER: "responder",
        Role.TECHNICAL_LEAD: None,
        Role.COMMUNICATIONS_LEAD: None,
        Role.SCRIBE: None,
    }
    assert response.data["available_transitions"] == ["acknowledge", "dismiss"]
    assert response.data["response_due_at"] is not None
    event = TimelineEvent.objects.get(incident=incident)
    assert (event.kind, event.source, event.actor) == (EventKind.CREATED, "api", responder)


def test_create_takes_the_priority_by_id(api, priorities):
    response = api.post(incidents_url(), {"title": "Disk full", "priority": priorities["P4"].pk})

    assert response.status_code == 201, response.data
    assert response.data["priority"] == "P4"


def test_create_lets_the_service_default_what_is_not_sent(api):
    before = timezone.now()
    response = api.post(incidents_url(), {"title": "Disk full", "priority": "P3"})

    assert response.status_code == 201
    incident = Incident.objects.get(pk=response.data["id"])
    assert incident.detected_at >= before
    assert incident.started_at == incident.detected_at
    assert incident.services.count() == 0
    assert incident.assignee is None


def test_create_reports_every_bad_field(api):
    response = api.post(incidents_url(), {"priority": "P9", "services": ["nope"], "assignee": "ghost"})

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["detail"]
    assert set(response.data) >= {"title", "priority", "services", "assignee"}
    assert response.data["title"] == ["This field is required."]
    assert Incident.objects.count() == 0


def test_create_refuses_read_only_and_unknown_fields(api):
    response = api.post(
        incidents_url(), {"title": "Disk full", "priority": "P3", "status": "resolved", "asignee": "x"}
    )

    assert response.status_code == 400
    assert set(response.data) == {"detail", "code", "status", "asignee"}
    assert Incident.objects.count() == 0


def test_create_maps_service_validation_to_field_errors(api):
    future = timezone.now() + timedelta(hours=1)
    response = api.post(
        incidents_url(), {"title": "Disk full", "priority": "P3", "detected_at": future.isoformat()}
    )

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["detected_at"] == ["Detection cannot be in the future."]


def test_create_refuses_impact_after_detection(api):
    now = timezone.now()
    response = api.post(
        incidents_url(),
        {
            "title": "Disk full",
            "priority": "P3",
            "detected_at": (now - timedelta(hours=1)).isoformat(),
            "started_at": now.isoformat(),
        },
    )

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    # Reported on started_at by the service, or as the model's check constraint: never as "__all__".
    assert {"started_at", "non_field_errors"} & set(response.data)
    assert "__all__" not in response.data
    assert Incident.objects.count() == 0


def test_create_refuses_a_body_that_is_not_json(api):
    response = api.post(incidents_url(), "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.data["code"] == "parse_error"


# --- Retrieve, list ---------------------------------------------------------------------------------


def test_retrieve_shows_roles_and_the_transitions_open_to_the_caller(
    api, open_incident, actor, user_factory, viewer
):
    scribe = user_factory(username="scribe1")
    incident = drive(open_incident(commander=actor.user), "in_progress", by=actor)
    incident.role_assignments.create(role=Role.SCRIBE, user=scribe)

    response = api.get(incidents_url(incident))

    assert response.status_code == 200
    assert response.data["status"] == "in_progress"
    assert response.data["roles"] == {
        "commander": "responder",
        "technical_lead": None,
        "communications_lead": None,
        "scribe": "scribe1",
    }
    assert response.data["available_transitions"] == ["hold", "resolve"]
    assert client_for(viewer).get(incidents_url(incident)).data["available_transitions"] == []


def test_retrieve_unknown_incident_is_404_in_the_error_shape(api):
    response = api.get("/api/v1/incidents/999999/")

    assert response.status_code == 404
    assert response.data["code"] == "not_found"


def test_list_returns_the_incident_fields(api, open_incident, service_factory, responder):
    incident = open_incident(services=[service_factory(slug="web")], assignee=responder)

    response = api.get(incidents_url())

    assert response.status_code == 200
    assert response.data["count"] == 1
    row = response.data["results"][0]
    assert row["id"] == incident.pk
    assert row["reference"] == incident.reference
    assert row["priority"] == "P2"
    assert row["services"] == ["web"]
    assert row["assignee"] == "responder"
    assert row["commander"] is None
    for field in (
        "status",
        "phase",
        "root_cause_category",
        "users_affected",
        "services_down",
        "data_at_risk",
        "security_issue",
        "is_drill",
        "started_at",
        "detected_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "resolution_summary",
        "reopen_count",
        "auto_resolved",
        "is_repeat",
        "response_due_at",
        "resolution_due_at",
        "next_update_due_at",
        "response_breached_at",
        "resolution_breached_at",
        "created_at",
        "updated_at",
    ):
        assert field in row
    # Per-user detail stays on the detail endpoint.
    assert "available_transitions" not in row


def test_a_real_token_authenticates(responder, open_incident):
    open_incident()

    response = token_client(responder).get(incidents_url())

    assert response.status_code == 200
    assert response.data["count"] == 1


def test_a_wrong_token_is_401(db):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(incidents_url())

    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"


# --- Edit ---------------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api, open_incident, priorities):
    incident = open_incident(description="Started after the deploy")

    response = api.patch(incidents_url(incident), {"priority": "P1"})

    assert response.status_code == 200, response.data
    assert response.data["priority"] == "P1"
    incident.refresh_from_db()
    assert incident.priority == priorities["P1"]
    assert incident.title == "Checkout returns 502"
    assert incident.description == "Started after the deploy"
    kinds = list(incident.timeline_events.values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.PRIORITY_CHANGED]


def test_patch_sets_services_people_and_phase(api, open_incident, actor, service_factory, user_factory):
    service_factory(slug="web")
    user_factory(username="bob")
    incident = drive(open_incident(), "in_progress", by=actor)

    response = api.patch(
        incidents_url(incident),
        {"services": ["web"], "assignee": "bob", "commander": "bob", "phase": "identified"},
    )

    assert response.status_code == 200, response.data
    assert response.data["services"] == ["web"]
    assert response.data["assignee"] == "bob"
    assert response.data["commander"] == "bob"
    assert response.data["roles"]["commander"] == "bob"
    assert response.data["phase"] == "identified"


def test_patch_can_clear_the_assignee(api, open_incident, responder):
    incident = open_incident(assignee=responder)

    response = api.patch(incidents_url(incident), {"assignee": None})

    assert response.status_code == 200
    assert response.data["assignee"] is None


def test_patch_refuses_status_and_timestamps(api, open_incident):
    incident = open_incident()

    response = api.patch(
        incidents_url(incident), {"status": "resolved", "resolved_at": timezone.now().isoformat()}
    )

    assert response.status_code == 400
    assert set(response.data) == {"detail", "code", "status", "resolved_at"}
    incident.refresh_from_db()
    assert incident.status == "new"
    assert incident.resolved_at is None


def test_patch_reports_service_rules_as_field_errors(api, open_incident):
    incident = open_incident()

    # Work phases start once the incident is acknowledged; this one is new.
    response = api.patch(incidents_url(incident), {"phase": "fixing"})

    assert response.status_code == 400
    assert response.data["phase"][0].startswith("A new incident is in triage or prioritized")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_put_and_delete_are_not_offered(api, open_incident, method):
    incident = open_incident()

    response = getattr(api, method)(incidents_url(incident), {"title": "x"})

    assert response.status_code == 405
    assert response.data["code"] == "method_not_allowed"
    assert Incident.objects.filter(pk=incident.pk).exists()


# --- Query counts ---------------------------------------------------------------------------------
# Token authentication, as tooling uses it: token + user (1), permissions (2), then the list:
# count (1), incidents with priority and people joined (1), services prefetched (1).
LIST_QUERIES = 6


@pytest.mark.parametrize("size", [1, 50])
def test_list_runs_a_constant_number_of_queries(
    responder, incident_factory, service_factory, user_factory, size, django_assert_num_queries
):
    services = [service_factory(), service_factory()]
    people = [user_factory() for _ in range(3)]
    for i in range(size):
        incident_factory(services=services, assignee=people[i % 3], commander=people[(i + 1) % 3])
    client = token_client(responder)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(incidents_url())

    assert response.status_code == 200
    assert len(response.data["results"]) == size
    assert all(len(row["services"]) == 2 and row["assignee"] for row in response.data["results"])


@pytest.mark.parametrize("size", [1, 50])
def test_postmortem_links_cost_no_query_per_row(responder, incident_factory, size, django_assert_num_queries):
    """Every row carries its post-mortem's id and URLs, joined by the list's one query."""
    incidents = [incident_factory() for _ in range(size)]
    postmortems = {i.pk: Postmortem.objects.create(incident=i, severity="P2") for i in incidents[::2]}
    client = token_client(responder)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(incidents_url())

    rows = {row["id"]: row["postmortem"] for row in response.data["results"]}
    assert len(rows) == size
    for incident_id, link in rows.items():
        postmortem = postmortems.get(incident_id)
        assert link == (
            {
                "id": postmortem.pk,
                "status": "draft",
                "url": f"/api/v1/postmortems/{postmortem.pk}/",
                "admin_url": f"/admin/postmortems/postmortem/{postmortem.pk}/change/",
            }
            if postmortem
            else None
        )


@pytest.mark.parametrize("size", [1, 50])
def test_filtered_and_ordered_list_runs_a_constant_number_of_queries(
    responder, incident_factory, service_factory, size, django_assert_num_queries
):
    web = service_factory(slug="web")
    for _ in range(size):
        incident_factory(services=[web])
    client = token_client(responder)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(incidents_url(), {"service": "web", "status": "new", "ordering": "priority"})

    assert len(response.data["results"]) == size
