"""REST API: services catalog, priorities and the priority suggestion."""

import pytest

from incidents.models import Service
from tests.incidents.api_support import client_for

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/services/"
PRIORITIES = "/api/v1/priorities/"
SUGGEST = "/api/v1/incidents/suggest-priority/"


@pytest.fixture
def admin_api(user_factory):
    return client_for(user_factory(username="boss", groups=["Admin"]))


@pytest.fixture
def api(viewer):
    return client_for(viewer)


# --- Services ---------------------------------------------------------------------------------------


def test_create_service_slugifies_the_name(admin_api):
    response = admin_api.post(SERVICES, {"name": "Payments API", "type": "web", "tier": 1})

    assert response.status_code == 201, response.data
    assert response.data["slug"] == "payments-api"
    assert response.data["tier"] == 1
    service = Service.objects.get(pk=response.data["id"])
    assert (service.name, service.type, service.tier) == ("Payments API", "web", 1)


def test_create_service_with_a_taken_name_is_400(admin_api, service_factory):
    service_factory(name="Search", slug="search")

    response = admin_api.post(SERVICES, {"name": "Search", "slug": "search-2"})

    assert response.status_code == 400
    assert response.data["name"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "type": "mainframe"}, "type"),
        ({"name": "X", "tier": 9}, "tier"),
        ({"name": "X", "runbook_url": "not a url"}, "runbook_url"),
        ({"name": "X", "slug": "has spaces"}, "slug"),
        ({"type": "web"}, "name"),
        ({"name": "X", "id": 5}, "id"),
    ],
)
def test_create_service_reports_bad_fields(admin_api, body, field):
    response = admin_api.post(SERVICES, body)

    assert response.status_code == 400
    assert response.data[field]
    assert not Service.objects.exists()


def test_edit_service(admin_api, service_factory):
    service = service_factory(name="Search", slug="search")

    response = admin_api.patch(f"{SERVICES}{service.pk}/", {"owner_team": "discovery", "tier": 1})

    assert response.status_code == 200, response.data
    service.refresh_from_db()
    assert (service.owner_team, service.tier, service.name) == ("discovery", 1, "Search")


def test_responder_may_not_edit_services(responder, service_factory):
    service = service_factory()

    response = client_for(responder).patch(f"{SERVICES}{service.pk}/", {"tier": 1})

    assert response.status_code == 403


def test_filter_services(api, service_factory):
    web = service_factory(name="Storefront", slug="storefront", type="web", tier=1)
    db = service_factory(name="Orders DB", slug="orders-db", type="database", tier=1)
    service_factory(name="Wiki", slug="wiki", type="web", tier=3)

    def slugs(params):
        response = api.get(SERVICES, params)
        assert response.status_code == 200, response.data
        return [row["slug"] for row in response.data["results"]]

    assert slugs({"type": "database"}) == [db.slug]
    assert slugs({"tier": 1}) == [db.slug, web.slug]
    assert slugs({"type": "web", "tier": "1"}) == [web.slug]
    assert slugs({"search": "orders"}) == [db.slug]
    assert slugs({"search": "storef"}) == [web.slug]
    assert api.get(SERVICES, {"tier": 7}).status_code == 400


def test_retrieve_service(api, service_factory):
    service = service_factory(name="Search", slug="search", runbook_url="https://runbooks.example/search")

    response = api.get(f"{SERVICES}{service.pk}/")

    assert response.status_code == 200
    assert response.data["runbook_url"] == "https://runbooks.example/search"


# --- Priorities -------------------------------------------------------------------------------------


def test_list_priorities(api, priorities):
    response = api.get(PRIORITIES)

    assert response.status_code == 200
    rows = response.data["results"]
    assert [row["code"] for row in rows] == ["P1", "P2", "P3", "P4", "P5"]
    assert rows[0]["response_target"] == "P0DT00H15M00S"
    assert rows[4]["response_target"] is None


def test_retrieve_priority(api, priorities):
    response = api.get(f"{PRIORITIES}{priorities['P2'].pk}/")

    assert response.status_code == 200
    assert response.data["update_interval"] == "P0DT02H00M00S"


def test_priorities_are_read_only(admin_user, priorities):
    client = client_for(admin_user)

    assert client.post(PRIORITIES, {"code": "P6"}).status_code == 405
    assert client.patch(f"{PRIORITIES}{priorities['P1'].pk}/", {"name": "x"}).status_code == 405


# --- Suggest priority -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        ({}, "P4", "limited impact"),
        ({"users_affected": "all"}, "P1", "all users are affected"),
        ({"services_down": 4}, "P1", "4 services are down"),
        ({"security_issue": True}, "P1", "it is a security issue"),
        ({"users_affected": "many"}, "P2", "many users are affected"),
        ({"services_down": 2}, "P2", "2 services are down"),
        ({"data_at_risk": True}, "P2", "data is at risk"),
        ({"users_affected": "some"}, "P3", "some users are affected"),
        ({"services_down": 1}, "P3", "one service is down"),
        ({"users_affected": "few", "services_down": 0}, "P4", "limited impact"),
    ],
)
def test_suggest_priority(api, priorities, body, code, reason):
    response = api.post(SUGGEST, body)

    assert response.status_code == 200, response.data
    assert response.data["priority"] == code
    assert response.data["priority_id"] == priorities[code].pk
    assert reason in response.data["reasons"]


def test_suggest_priority_gives_every_reason_of_the_winning_level(api, priorities):
    response = api.post(
        SUGGEST, {"users_affected": "all", "security_issue": True, "data_at_risk": True, "services_down": 5}
    )

    assert response.data["priority"] == "P1"
    assert response.data["reasons"] == [
        "all users are affected",
        "5 services are down",
        "it is a security issue",
    ]


def test_suggest_priority_without_that_priority_row_has_no_id(api, priorities):
    priorities["P4"].delete()

    response = api.post(SUGGEST, {})

    assert response.data == {"priority": "P4", "priority_id": None, "reasons": ["limited impact"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"users_affected": "everyone"}, "users_affected"),
        ({"services_down": -1}, "services_down"),
        ({"services_down": "lots"}, "services_down"),
        ({"security_issue": "maybe"}, "security_issue"),
        ({"severity": "high"}, "severity"),
    ],
)
def test_suggest_priority_refuses_bad_input(api, body, field):
    response = api.post(SUGGEST, body)

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data[field]
