"""The service and priority admin write through the catalog services; a refusal is a message on the
page shown again, never a 500, and changes nothing."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.duration import duration_string

from common.exceptions import PermissionDeniedError
from incidents.models import Priority, Service
from incidents.services import priority_update, service_create, service_delete, service_update

SERVICES = reverse("admin:incidents_service_changelist")
PRIORITIES = reverse("admin:incidents_priority_changelist")
SERVICE_FORM = {
    "name": "Payments API",
    "slug": "payments-api",
    "type": "web",
    "tier": "1",
    "owner_team": "payments",
    "owner_email": "",
    "runbook_url": "",
    "description": "",
}


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def spy(name: str, service):
    return mock.patch(f"incidents.admin.catalog.{name}", wraps=service)


@pytest.fixture
def boss(client, user_factory):
    """A member of the Admin group (not a superuser), logged in."""
    user = user_factory(username="boss", groups=["Admin"])
    client.force_login(user)
    return user


# --- Services -------------------------------------------------------------------------------------


def test_adding_a_service_goes_through_service_create(client, boss):
    with spy("service_create", service_create) as called:
        response = client.post(reverse("admin:incidents_service_add"), SERVICE_FORM)

    assert response.status_code == 302
    service = Service.objects.get(slug="payments-api")
    assert (service.name, service.type, service.tier, service.owner_team) == (
        "Payments API",
        "web",
        1,
        "payments",
    )
    assert called.call_args.kwargs["by"].user == boss
    assert response["Location"] == SERVICES
    assert "Payments API" in flashed(response)[0]


def test_editing_a_service_sends_only_what_changed(client, boss, service_factory):
    service = service_factory(name="Search", slug="search", type="web", owner_team="platform")

    with spy("service_update", service_update) as called:
        response = client.post(
            reverse("admin:incidents_service_change", args=[service.pk]),
            {**SERVICE_FORM, "name": "Search", "slug": "search", "tier": "2", "owner_team": "discovery"},
        )

    assert response.status_code == 302
    assert called.call_args.kwargs["changes"] == {"owner_team": "discovery"}
    service.refresh_from_db()
    assert service.owner_team == "discovery"


def test_a_refused_service_save_is_a_message_and_changes_nothing(client, boss, service_factory):
    service = service_factory(name="Search", slug="search", owner_team="platform")
    url = reverse("admin:incidents_service_change", args=[service.pk])
    taken = ValidationError("A service with this name or slug already exists.")

    with mock.patch("incidents.admin.catalog.service_update", side_effect=taken):
        response = client.post(url, {**SERVICE_FORM, "name": "Search", "slug": "search", "owner_team": "x"})

    assert response.status_code == 302
    assert response["Location"] == url
    assert flashed(response) == ["A service with this name or slug already exists."]
    service.refresh_from_db()
    assert service.owner_team == "platform"


def test_deleting_a_service_goes_through_service_delete(client, boss, service_factory):
    service = service_factory(name="Legacy")

    with spy("service_delete", service_delete) as called:
        response = client.post(reverse("admin:incidents_service_delete", args=[service.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert called.call_args.kwargs["service"].name == "Legacy"  # Deleted: its pk is None now.
    assert not Service.objects.filter(pk=service.pk).exists()


def test_a_refused_service_delete_is_a_message(client, boss, service_factory):
    service = service_factory(name="Legacy")
    url = reverse("admin:incidents_service_delete", args=[service.pk])
    refused = PermissionDeniedError("You may not delete services.")

    with mock.patch("incidents.admin.catalog.service_delete", side_effect=refused):
        response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:incidents_service_change", args=[service.pk])
    assert flashed(response) == ["You may not delete services."]
    assert Service.objects.filter(pk=service.pk).exists()


def test_delete_selected_services_goes_through_service_delete(client, boss, service_factory):
    one, two, kept = service_factory(), service_factory(), service_factory()
    data = {"action": "delete_selected", "_selected_action": [one.pk, two.pk], "post": "yes"}

    with spy("service_delete", service_delete) as called:
        response = client.post(SERVICES, data)

    assert response.status_code == 302
    assert called.call_count == 2
    assert list(Service.objects.all()) == [kept]


def test_a_refused_delete_selected_deletes_nothing_and_logs_nothing(client, boss, service_factory):
    one, two = service_factory(), service_factory()
    data = {"action": "delete_selected", "_selected_action": [one.pk, two.pk], "post": "yes"}
    calls = []

    def delete_then_refuse(*, by, service):
        # The first delete goes through, the second is refused: both are undone, log entries too.
        calls.append(service)
        if len(calls) > 1:
            raise PermissionDeniedError("You may not delete services.")
        service_delete(by=by, service=service)

    with mock.patch("incidents.admin.catalog.service_delete", side_effect=delete_then_refuse):
        response = client.post(SERVICES, data)

    assert response.status_code == 302
    assert len(calls) == 2
    assert flashed(response) == ["You may not delete services."]
    assert Service.objects.filter(pk__in=[one.pk, two.pk]).count() == 2
    assert not boss.logentry_set.exists()


def test_viewer_cannot_delete_services(client, viewer, service_factory):
    service = service_factory()
    client.force_login(viewer)

    response = client.post(reverse("admin:incidents_service_delete", args=[service.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Service.objects.filter(pk=service.pk).exists()


# --- Priorities -----------------------------------------------------------------------------------


def _list_editable(priorities, **targets) -> dict:
    """The changelist's POST with `targets` ({"P1": timedelta}) as the new response targets."""
    rows = sorted(priorities.values(), key=lambda p: p.code)
    data = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": str(len(rows)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, priority in enumerate(rows):
        response_target = targets.get(priority.code, priority.response_target)
        for field, value in (
            ("id", priority.pk),
            ("response_target", response_target),
            ("resolution_target", priority.resolution_target),
            ("update_interval", priority.update_interval),
        ):
            text = duration_string(value) if isinstance(value, timedelta) else value
            data[f"form-{index}-{field}"] = "" if text is None else str(text)
    return data


def test_priority_page_goes_through_priority_update(client, boss, priorities):
    p1 = priorities["P1"]
    form = {
        "name": p1.name,
        "description": p1.description,
        "response_target": "00:10:00",
        "resolution_target": duration_string(p1.resolution_target),
        "update_interval": duration_string(p1.update_interval),
    }

    with spy("priority_update", priority_update) as called:
        response = client.post(reverse("admin:incidents_priority_change", args=[p1.pk]), form)

    assert response.status_code == 302
    assert called.call_args.kwargs["changes"] == {"response_target": timedelta(minutes=10)}
    assert Priority.objects.get(code="P1").response_target == timedelta(minutes=10)


def test_list_editable_goes_through_priority_update(client, boss, priorities):
    data = _list_editable(priorities, P1=timedelta(minutes=5), P2=timedelta(minutes=20))

    with spy("priority_update", priority_update) as called:
        response = client.post(PRIORITIES, data)

    assert response.status_code == 302
    assert sorted(c.kwargs["priority"].code for c in called.call_args_list) == ["P1", "P2"]
    assert Priority.objects.get(code="P1").response_target == timedelta(minutes=5)
    assert Priority.objects.get(code="P2").response_target == timedelta(minutes=20)


def test_a_refused_list_edit_is_a_message_and_changes_no_row(client, boss, priorities):
    data = _list_editable(priorities, P1=timedelta(minutes=5), P2=timedelta(minutes=20))
    calls = []

    def update_then_refuse(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            raise PermissionDeniedError("You may not edit priorities.")
        return priority_update(**kwargs)

    with mock.patch("incidents.admin.catalog.priority_update", side_effect=update_then_refuse):
        response = client.post(PRIORITIES, data)

    assert response.status_code == 302
    assert flashed(response) == ["You may not edit priorities."]
    assert Priority.objects.get(code="P1").response_target == priorities["P1"].response_target
    assert Priority.objects.get(code="P2").response_target == priorities["P2"].response_target
