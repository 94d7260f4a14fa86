"""Building status page content for tests the way production does: components and their groups
(plain rows: no service creates them yet), incidents, updates and maintenance through the services."""

import uuid
from collections.abc import Mapping
from datetime import datetime

import pytest
from django.core.cache import cache

from common.actor import Actor, Source
from statuspage.choices import Impact, PublicStatus
from statuspage.models import Component, ComponentGroup, PublicIncident
from statuspage.services import public_incidents

STAFF = Actor.system(source=Source.ADMIN, label="tests")


def component_make(name: str, group: ComponentGroup | str | None = None, **kw) -> Component:
    """A shown, operational component; `group` by name is made when missing."""
    if isinstance(group, str):
        group = ComponentGroup.objects.get_or_create(name=group)[0]
    return Component.objects.create(name=name, group=group, **kw)


def incident_make(
    *,
    title: str = "Checkout is slow",
    message: str = "We are looking into slow checkouts.",
    impact: str = Impact.MINOR,
    status: str = PublicStatus.INVESTIGATING,
    components: Mapping[Component, str] | None = None,
    by: Actor = STAFF,
    **kw,
) -> PublicIncident:
    """A public incident opened through the service; `components` default to none."""
    return public_incidents.public_incident_open(
        by=by, title=title, message=message, impact=impact, status=status, components=components or {}, **kw
    )


def update_post(public: PublicIncident, status: str, message: str, by: Actor = STAFF, **kw):
    return public_incidents.public_update_post(
        public_incident=public, by=by, status=status, message=message, **kw
    )


def maintenance_make(
    *,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: list[Component] | None = None,
    title: str = "Database upgrade",
    message: str = "We will upgrade the database.",
    by: Actor = STAFF,
) -> PublicIncident:
    return public_incidents.maintenance_schedule(
        by=by,
        title=title,
        message=message,
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        components=components or [],
    )


@pytest.fixture
def page_cache(settings):
    """The pages are cached under a version shared by every process using the cache: each test gets
    a cache of its own, so no page cached by another test (or `make run`) is served to it. With
    REDIS_URL (CI) that is the real Redis under a prefix of the test's own, its keys deleted after;
    without, an in-memory cache."""
    default = settings.CACHES["default"]
    if default["BACKEND"].endswith("RedisCache"):
        prefix = f"test-statuspage-{uuid.uuid4().hex}"
        settings.CACHES = {"default": {**default, "KEY_PREFIX": prefix}}
        yield cache
        client = cache._cache.get_client()
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        cache.clear()
        yield cache
        cache.clear()
