"""Building a status page through the services, as the admin and the API do, for the JSON, feed
and nothing-internal tests; and reading its public documents."""

import json
from datetime import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse

from common.actor import Actor, Source
from statuspage.cache import VERSION_KEY
from statuspage.choices import Impact, PublicStatus
from statuspage.models import Component, ComponentGroup, PageSettings, PublicIncident, PublicUpdate
from statuspage.services.public_incidents import (
    maintenance_schedule,
    public_incident_open,
    public_update_post,
)


# Named *_fixture so a test module can import them without its arguments shadowing the import.
@pytest.fixture(name="page_cache")
def page_cache_fixture(settings):
    """A cache of this test's own: the page's responses are cached under its version, which moves
    on only after commit, and tests roll back. Each test starts empty; `page_moved_on()` stands in
    for the commit."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


def page_moved_on() -> None:
    """What page_changed() does after commit: every cached page is stale."""
    cache.delete(VERSION_KEY)


@pytest.fixture(name="operator")
def operator_fixture(admin_user) -> Actor:
    return Actor(user=admin_user, source=Source.ADMIN)


def group_make(name: str, order: int = 0, **kwargs) -> ComponentGroup:
    return ComponentGroup.objects.create(name=name, order=order, **kwargs)


def component_make(name: str, group: ComponentGroup | None = None, order: int = 0, **kwargs) -> Component:
    # Components are configuration (the admin writes them as they are); their status moves only
    # through the services.
    return Component.objects.create(name=name, group=group, order=order, **kwargs)


def incident_make(
    by: Actor,
    title: str = "Checkout is slow",
    *,
    components: dict[Component, str] | None = None,
    impact: str = Impact.MINOR,
    status: str = PublicStatus.INVESTIGATING,
    message: str = "We are looking into slow checkouts.",
    **kwargs,
) -> PublicIncident:
    return public_incident_open(
        by=by, title=title, message=message, impact=impact, status=status, components=components, **kwargs
    )


def update_post(by: Actor, public: PublicIncident, status: str, message: str = "", **kwargs) -> PublicUpdate:
    return public_update_post(
        public_incident=public, by=by, status=status, message=message or f"Now {status}.", **kwargs
    )


def maintenance_make(
    by: Actor,
    title: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: list[Component] | None = None,
) -> PublicIncident:
    return maintenance_schedule(
        by=by,
        title=title,
        message=f"{title}: we will let you know when it starts.",
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        components=components or [],
    )


def settings_set(**values) -> None:
    PageSettings.objects.filter(pk=1).update(**values)
    page_moved_on()


def get_json(client, name: str) -> dict:
    response = client.get(reverse(f"statuspage:{name}"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)
