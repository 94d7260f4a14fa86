"""One overall status everywhere: the page's banner, status.json and summary.json say the same
(selectors.indicator_of), whatever the components and open incidents say."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from statuspage.choices import ComponentStatus, Impact
from statuspage.selectors import page_indicator
from statuspage.services.components import component_status_set
from statuspage.services.public_incidents import maintenance_sweep
from tests.statuspage.support import (
    STAFF,
    component_make,
    incident_make,
    maintenance_make,
    page_cache,  # noqa: F401 (a fixture)
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]


def everywhere(client) -> set[tuple[str, str]]:
    page = client.get(reverse("statuspage:index")).content.decode()
    banner = re.search(r'class="banner i-(\w+)"[^>]*>\s*<h1>([^<]+)</h1>', page)
    said = {(banner[1], banner[2])}
    for name in ("statuspage:json_status", "statuspage:json_summary"):
        status = json.loads(client.get(reverse(name)).content)["status"]
        said.add((status["indicator"], status["description"]))
    found = page_indicator()
    said.add((found.indicator, found.description))
    return said


def test_the_banner_and_the_json_agree_as_things_change(client, django_capture_on_commit_callbacks):
    web, api = component_make("Website"), component_make("API")
    seen = []

    def step(change):
        with django_capture_on_commit_callbacks(execute=True):
            change()
        said = everywhere(client)
        assert len(said) == 1, said
        seen.append(said.pop())

    step(lambda: None)
    step(lambda: component_status_set(component=web, status=ComponentStatus.DEGRADED, by=STAFF))
    step(lambda: incident_make(impact=Impact.MAJOR, components={api: ComponentStatus.PARTIAL_OUTAGE}))
    step(lambda: component_status_set(component=web, status=ComponentStatus.MAJOR_OUTAGE, by=STAFF))
    now = timezone.now()
    step(
        lambda: maintenance_make(
            scheduled_for=now - timedelta(minutes=1),
            scheduled_until=now + timedelta(hours=1),
            components=[web],
        )
    )
    step(lambda: maintenance_sweep(now=now))

    assert [indicator for indicator, _ in seen] == ["none", "minor", "major", "major", "major", "major"]
