"""The hostile corpus through every free-text field of the status page API (component and group
names and descriptions, incident titles and messages, update messages, maintenance, the page's name,
support URL, colour and time zone): each value is stored as sent (ends trimmed) or refused with a
field error; never a 500, never a half-written row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage.models import Component, ComponentGroup, PageSettings, PublicIncident, PublicUpdate
from tests.hostile import HOSTILE
from tests.incidents.api_support import token_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/statuspage"
VALUES = list(HOSTILE.values())
IDS = list(HOSTILE)


@pytest.fixture
def api(admin_user):
    return token_client(admin_user)


def stored_or_refused(response, field: str, value: str, stored) -> None:
    assert response.status_code in (200, 201, 400), (response.status_code, response.content[:300])
    if response.status_code == 400:
        assert field in response.json() or any(key in response.json() for key in ("name", "title", "message"))
    else:
        assert stored() == value.strip()


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_component_and_group_text(api, value):
    group = api.post(f"{BASE}/component-groups/", {"name": value, "description": value}, format="json")
    if group.status_code == 400:
        assert not ComponentGroup.objects.exists()
    stored_or_refused(group, "name", value, lambda: ComponentGroup.objects.get().description)
    component = api.post(f"{BASE}/components/", {"name": value, "description": value}, format="json")
    if component.status_code == 400:
        assert not Component.objects.exists()
    stored_or_refused(component, "name", value, lambda: Component.objects.get().description)
    status = api.patch(
        f"{BASE}/components/{Component.objects.first().pk if Component.objects.exists() else 1}/",
        {"status": value},
        format="json",
    )
    assert status.status_code in (400, 404)


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_incident_and_update_text(api, value):
    opened = api.post(
        f"{BASE}/incidents/", {"title": value, "message": value, "notify": False}, format="json"
    )
    if opened.status_code == 400:
        assert not PublicIncident.objects.exists() and not PublicUpdate.objects.exists()
    stored_or_refused(opened, "title", value, lambda: PublicIncident.objects.get().updates.get().message)
    public = PublicIncident.objects.first() or PublicIncident.objects.get(
        pk=api.post(
            f"{BASE}/incidents/", {"title": "t", "message": "m", "notify": False}, format="json"
        ).json()["id"]
    )
    before = public.updates.count()
    update = api.post(
        f"{BASE}/incidents/{public.pk}/updates/",
        {"status": "identified", "message": value, "notify": False},
        format="json",
    )
    if update.status_code == 400:
        assert public.updates.count() == before
    stored_or_refused(update, "message", value, lambda: public.updates.order_by("-id").first().message)
    bad_status = api.post(
        f"{BASE}/incidents/{public.pk}/updates/", {"status": value, "message": "m"}, format="json"
    )
    assert bad_status.status_code == 400 and public.updates.count() == before + (update.status_code == 201)
    edit = api.patch(f"{BASE}/incidents/{public.pk}/", {"title": value}, format="json")
    stored_or_refused(edit, "title", value, lambda: PublicIncident.objects.get(pk=public.pk).title)


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_maintenance_text(api, value):
    start = timezone.now() + timedelta(days=1)
    body = {
        "title": value,
        "message": value,
        "scheduled_for": start.isoformat(),
        "scheduled_until": (start + timedelta(hours=1)).isoformat(),
        "notify": False,
    }
    response = api.post(f"{BASE}/maintenance/", body, format="json")
    if response.status_code == 400:
        assert not PublicIncident.objects.exists()
    stored_or_refused(response, "title", value, lambda: PublicIncident.objects.get().title)
    when = api.post(
        f"{BASE}/maintenance/", {**body, "title": "t", "message": "m", "scheduled_for": value}, format="json"
    )
    assert when.status_code == 400 and "scheduled_for" in when.json()


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_page_settings_text(api, value):
    before = PageSettings.objects.values().get()
    name = api.patch(f"{BASE}/settings/", {"name": value}, format="json")
    stored_or_refused(name, "name", value, lambda: PageSettings.objects.get().name)
    for field in ("accent_colour", "support_url", "time_zone"):
        response = api.patch(f"{BASE}/settings/", {field: value}, format="json")
        assert response.status_code in (200, 400), response.content[:300]
        if response.status_code == 400:
            assert field in response.json()
            assert PageSettings.objects.values(field).get()[field] == before[field]
