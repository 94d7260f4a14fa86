"""The status page's tooling API (issue 14): components (PATCH status through component_status_set),
groups, public incidents and their updates, maintenance, the page's settings. Authenticated, 400
with field errors on bad input and nothing written, 409 for an update a completed maintenance cannot
take, 404 for unknown ids, lists in a constant number of queries."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from common.actor import Actor, Source
from statuspage.choices import ComponentStatus, Kind, PublicStatus
from statuspage.models import Component, ComponentGroup, ComponentStatusChange, PageSettings, PublicIncident
from statuspage.services.public_incidents import maintenance_schedule, maintenance_sweep, public_incident_open
from tests.factories import ServiceFactory
from tests.incidents.api_support import token_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/statuspage"


@pytest.fixture
def api(admin_user):
    return token_client(admin_user)


def component_make(name: str, **fields) -> Component:
    return Component.objects.create(name=name, **fields)


def test_every_endpoint_needs_a_login():
    anonymous = APIClient()
    for url in ("components/", "component-groups/", "incidents/", "maintenance/", "settings/"):
        assert anonymous.get(f"{BASE}/{url}").status_code in (401, 403)
    assert anonymous.post(f"{BASE}/components/", {"name": "x"}, format="json").status_code in (401, 403)
    assert not Component.objects.exists()


def test_a_user_without_the_permissions_gets_403(viewer):
    response = token_client(viewer).post(f"{BASE}/components/", {"name": "API"}, format="json")
    assert response.status_code == 403
    assert not Component.objects.exists()


def test_component_create_edit_and_status(api):
    group = ComponentGroup.objects.create(name="Website")
    service = ServiceFactory()
    created = api.post(
        f"{BASE}/components/",
        {"name": "Storefront", "group": group.pk, "order": 5, "services": [service.pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "operational" and body["services"] == [service.pk] and body["group"] == group.pk
    url = f"{BASE}/components/{body['id']}/"
    changed = api.patch(url, {"status": "major_outage", "description": "Pages"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["status"] == "major_outage" and changed.json()["description"] == "Pages"
    change = ComponentStatusChange.objects.get(component_id=body["id"])
    assert change.status == ComponentStatus.MAJOR_OUTAGE
    assert api.get(f"{BASE}/components/?status=major_outage").json()["count"] == 1
    assert api.delete(url).status_code == 204
    assert not Component.objects.exists()


def test_component_bad_input_is_a_field_error_and_writes_nothing(api):
    component_make("API")
    duplicate = api.post(f"{BASE}/components/", {"name": "API"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    stored = Component.objects.get()
    bad = api.patch(
        f"{BASE}/components/{stored.pk}/", {"status": "on_fire", "description": "changed"}, format="json"
    )
    assert bad.status_code == 400 and "status" in bad.json()
    stored.refresh_from_db()
    assert stored.description == "" and stored.status == ComponentStatus.OPERATIONAL
    unknown = api.post(f"{BASE}/components/", {"name": "B", "group": 999999, "services": [0]}, format="json")
    assert unknown.status_code == 400 and {"group", "services"} <= set(unknown.json())
    assert api.get(f"{BASE}/components/999999/").status_code == 404
    assert api.patch(f"{BASE}/components/999999/", {"name": "x"}, format="json").status_code == 404


def test_lists_run_a_constant_number_of_queries(api, admin_user, django_assert_num_queries):
    by = Actor(user=admin_user, source=Source.API)

    def add(n: int) -> None:
        for i in range(n):
            group = ComponentGroup.objects.create(name=f"G{ComponentGroup.objects.count()}")
            component = component_make(f"C{Component.objects.count()}", group=group)
            component.services.add(ServiceFactory())
            public_incident_open(
                by=by, title=f"T{i}", message="m", components={component: "partial_outage"}, notify=False
            )
            start = timezone.now() + timedelta(days=1)
            maintenance_schedule(
                by=by,
                title="m",
                message="m",
                scheduled_for=start,
                scheduled_until=start + timedelta(hours=1),
                components=[component],
                notify=False,
            )

    # The token with its user, the count, the page, then one per prefetch (services; the affected
    # components with theirs, and the updates).
    expected = {"components/": 4, "incidents/": 5, "component-groups/": 3, "maintenance/": 5}
    for n in (2, 6):
        add(n)
        for url, queries in expected.items():
            with django_assert_num_queries(queries):
                assert api.get(f"{BASE}/{url}").status_code == 200


def test_public_incident_open_update_and_edit(api):
    storefront = component_make("Storefront")
    created = api.post(
        f"{BASE}/incidents/",
        {
            "title": "Checkout errors",
            "message": "Investigating.",
            "impact": "major",
            "components": [{"component": storefront.pk, "status": "partial_outage"}],
            "notify": False,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "investigating" and body["components"][0]["status"] == "partial_outage"
    storefront.refresh_from_db()
    assert storefront.status == ComponentStatus.PARTIAL_OUTAGE
    url = f"{BASE}/incidents/{body['id']}/"
    update = api.post(
        f"{url}updates/", {"status": "resolved", "message": "Fixed.", "notify": False}, format="json"
    )
    assert update.status_code == 201, update.content
    assert update.json()["affected_components"][0]["new_status"] == "operational"
    edited = api.patch(url, {"title": "Checkout errors for some cards"}, format="json")
    assert edited.status_code == 200 and edited.json()["title"] == "Checkout errors for some cards"
    read = api.get(url).json()
    assert [u["status"] for u in read["updates"]] == ["investigating", "resolved"]  # Oldest first.
    assert api.get(f"{BASE}/incidents/?status=resolved&kind=incident").json()["count"] == 1
    assert api.get(f"{BASE}/incidents/?status=investigating").json()["count"] == 0


def test_public_incident_bad_input(api):
    empty = api.post(
        f"{BASE}/incidents/", {"title": "  ", "message": "m", "impact": "maintenance"}, format="json"
    )
    assert empty.status_code == 400 and {"title", "impact"} <= set(empty.json())
    resolved = api.post(
        f"{BASE}/incidents/", {"title": "t", "message": "m", "status": "resolved"}, format="json"
    )
    assert resolved.status_code == 400 and "status" in resolved.json()
    assert not PublicIncident.objects.exists()
    ok = api.post(f"{BASE}/incidents/", {"title": "t", "message": "m", "notify": False}, format="json").json()
    wrong_kind = api.post(
        f"{BASE}/incidents/{ok['id']}/updates/", {"status": "completed", "message": "m"}, format="json"
    )
    assert wrong_kind.status_code == 400 and "status" in wrong_kind.json()
    assert PublicIncident.objects.get().updates.count() == 1
    assert (
        api.post(
            f"{BASE}/incidents/999999/updates/", {"status": "resolved", "message": "m"}, format="json"
        ).status_code
        == 404
    )


def test_maintenance_scheduled_then_completed_takes_no_update(api):
    database = component_make("Database")
    start = timezone.now() + timedelta(days=1)
    created = api.post(
        f"{BASE}/maintenance/",
        {
            "title": "Database upgrade",
            "message": "Upgrading.",
            "scheduled_for": start.isoformat(),
            "scheduled_until": (start + timedelta(hours=1)).isoformat(),
            "components": [database.pk],
            "notify": False,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == Kind.MAINTENANCE and body["status"] == PublicStatus.SCHEDULED
    backwards = api.post(
        f"{BASE}/maintenance/",
        {
            "title": "x",
            "message": "m",
            "scheduled_for": start.isoformat(),
            "scheduled_until": start.isoformat(),
        },
        format="json",
    )
    assert backwards.status_code == 400 and "scheduled_until" in backwards.json()
    maintenance_sweep(now=start + timedelta(hours=2))
    late = api.post(
        f"{BASE}/incidents/{body['id']}/updates/", {"status": "verifying", "message": "m"}, format="json"
    )
    assert late.status_code == 409 and late.json()["code"] == "transition_not_allowed"
    assert api.get(f"{BASE}/maintenance/").json()["count"] == 1


def test_page_settings(api):
    assert api.get(f"{BASE}/settings/").json()["name"] == "Status"
    changed = api.patch(
        f"{BASE}/settings/",
        {"name": "Acme status", "accent_colour": "#112233", "time_zone": "Europe/Berlin", "private": True},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["private"] is True and changed.json()["has_logo"] is False
    colour = api.patch(f"{BASE}/settings/", {"name": "Other", "accent_colour": "red"}, format="json")
    assert colour.status_code == 400 and "accent_colour" in colour.json()
    bad = api.patch(
        f"{BASE}/settings/",
        {"name": "Other", "support_url": "javascript:alert(1)", "time_zone": "Mars/Base"},
        format="json",
    )
    assert bad.status_code == 400 and {"support_url", "time_zone"} <= set(bad.json())
    assert PageSettings.objects.get().name == "Acme status"
    assert api.patch(f"{BASE}/settings/", {"logo": "aGk="}, format="json").status_code == 400


def test_the_schema_has_no_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
