"""The catalog services the admin writes through: service_delete and priority_update."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError
from incidents.models import Incident, Priority, Service
from incidents.services import priority_update, service_delete


@pytest.fixture
def catalog_admin(user_factory) -> Actor:
    return Actor(user=user_factory(username="boss", groups=["Admin"]), source=Source.ADMIN)


# --- service_delete ---------------------------------------------------------------------------------


def test_service_delete_keeps_the_incidents_that_named_it(catalog_admin, service_factory, open_incident):
    checkout, search = service_factory(name="Checkout"), service_factory(name="Search")
    incident = open_incident(services=[checkout, search])

    service_delete(by=catalog_admin, service=checkout)

    assert not Service.objects.filter(pk=checkout.pk).exists()
    assert list(Incident.objects.get(pk=incident.pk).services.all()) == [search]


def test_service_delete_needs_the_permission(actor, service_factory):
    service = service_factory()

    with pytest.raises(PermissionDeniedError, match="You may not delete services"):
        service_delete(by=actor, service=service)

    assert Service.objects.filter(pk=service.pk).exists()


# --- priority_update --------------------------------------------------------------------------------


def test_priority_update_changes_the_name_and_targets(catalog_admin, priorities):
    updated = priority_update(
        priority=priorities["P1"],
        by=catalog_admin,
        changes={
            "name": "Critical outage",
            "response_target": timedelta(minutes=10),
            "update_interval": None,
        },
    )

    stored = Priority.objects.get(code="P1")
    assert (stored.name, stored.response_target, stored.update_interval) == (
        "Critical outage",
        timedelta(minutes=10),
        None,
    )
    assert updated.name == "Critical outage"
    assert stored.resolution_target == priorities["P1"].resolution_target


def test_priority_update_refuses_the_code_and_unknown_fields(catalog_admin, priorities):
    with pytest.raises(ValidationError) as refused:
        priority_update(priority=priorities["P1"], by=catalog_admin, changes={"code": "P0", "colour": "red"})

    assert set(refused.value.message_dict) == {"code", "colour"}
    assert Priority.objects.filter(code="P1").exists()


def test_priority_update_validates_the_row(catalog_admin, priorities):
    with pytest.raises(ValidationError) as refused:
        priority_update(priority=priorities["P2"], by=catalog_admin, changes={"name": ""})

    assert "name" in refused.value.message_dict
    assert Priority.objects.get(code="P2").name == priorities["P2"].name


def test_priority_update_needs_the_permission(actor, priorities):
    with pytest.raises(PermissionDeniedError, match="You may not edit priorities"):
        priority_update(priority=priorities["P3"], by=actor, changes={"name": "Minor"})

    assert Priority.objects.get(code="P3").name == priorities["P3"].name
