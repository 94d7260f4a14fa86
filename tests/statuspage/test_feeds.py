"""The Atom and RSS feeds: well-formed XML that feedparser reads without complaint, one entry per
update with the incident's title and the update's status, absolute links, the update's time, and
the same guard and cache as every public URL."""

import calendar
import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone

from statuspage.choices import ComponentStatus, PublicStatus
from statuspage.models import PublicUpdate
from tests.statuspage.support_json import (
    component_make,
    incident_make,
    maintenance_make,
    operator_fixture,  # noqa: F401
    page_cache_fixture,  # noqa: F401
    page_moved_on,
    settings_set,
    update_post,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

FEEDS = {
    "feed_atom": ("atom10", "application/atom+xml; charset=utf-8"),
    "feed_rss": ("rss20", "application/rss+xml; charset=utf-8"),
}


@pytest.fixture
def history(operator):
    web = component_make("Website")
    outage = incident_make(
        operator, "Website down", components={web: ComponentStatus.MAJOR_OUTAGE}, message="Looking into it."
    )
    update_post(operator, outage, PublicStatus.IDENTIFIED, "A bad deploy; rolling back.")
    update_post(operator, outage, PublicStatus.RESOLVED, "Rolled back & <fine> again.")
    now = timezone.now()
    window = maintenance_make(
        operator, "Database upgrade", now + timedelta(days=1), now + timedelta(days=2), [web]
    )
    page_moved_on()
    return {"outage": outage, "window": window}


def read(client, name: str):
    response = client.get(reverse(f"statuspage:{name}"))
    assert response.status_code == 200, response.content
    return response


@pytest.mark.parametrize("name", FEEDS)
def test_feed_is_well_formed_and_parses_cleanly(client, history, name):
    response = read(client, name)

    assert response["Content-Type"] == FEEDS[name][1]
    ET.fromstring(response.content)  # Well-formed XML, or this raises.
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == FEEDS[name][0]
    assert feed.feed.title == "Status status"
    assert feed.feed.link == "http://testserver/status/"


@pytest.mark.parametrize("name", FEEDS)
def test_each_update_is_an_entry_newest_first(client, history, name):
    feed = feedparser.parse(read(client, name).content)

    outage, window = history["outage"], history["window"]
    updates = list(PublicUpdate.objects.order_by("-created_at", "-id"))
    assert [entry.title for entry in feed.entries] == [
        "Maintenance: Database upgrade — Scheduled",
        "Website down — Resolved",
        "Website down — Identified",
        "Website down — Investigating",
    ]
    for entry, update in zip(feed.entries, updates, strict=True):
        public = window if update.public_incident_id == window.pk else outage
        link = f"http://testserver/status/incidents/{public.pk}/#update-{update.pk}"
        assert entry.link == link
        assert entry.id == link  # Each update its own id, stable across fetches.
        when = entry.get("published_parsed") or entry.updated_parsed
        assert calendar.timegm(when) == int(update.created_at.timestamp())
    # Plain text shown as text: escaped, never markup.
    assert feed.entries[1].summary == "<p>Rolled back &amp; &lt;fine&gt; again.</p>"


@pytest.mark.parametrize("name", FEEDS)
def test_feed_links_itself_absolutely(client, history, name):
    feed = feedparser.parse(read(client, name).content)

    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == [f"http://testserver{reverse(f'statuspage:{name}')}"]


@pytest.mark.parametrize("name", FEEDS)
def test_empty_page_gives_an_empty_valid_feed(client, name):
    feed = feedparser.parse(read(client, name).content)

    assert feed.bozo == 0 and feed.entries == []


@pytest.mark.parametrize("name", FEEDS)
def test_feed_costs_the_same_queries_whatever_its_size(client, operator, django_assert_num_queries, name):
    incident_make(operator, "One")
    page_moved_on()
    # The branding (its cache is empty after a change) and the updates with their incidents.
    with django_assert_num_queries(2):
        read(client, name)
    for n in range(10):
        update_post(operator, incident_make(operator, f"More {n}"), PublicStatus.MONITORING)
    page_moved_on()
    with django_assert_num_queries(2):
        feed = feedparser.parse(read(client, name).content)
    assert len(feed.entries) == 21


@pytest.mark.parametrize("name", FEEDS)
def test_private_page_feed_needs_a_login(client, history, admin_user, name):
    settings_set(private=True)

    assert client.get(reverse(f"statuspage:{name}")).status_code == 302
    client.force_login(admin_user)
    assert feedparser.parse(read(client, name).content).entries
