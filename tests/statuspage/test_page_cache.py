"""The pages are built once per change: a second reader costs no query, and a change (an update
posted, a component set) shows on the very next request. Private mode asks for a staff login."""

import gzip

import pytest
from django.core.cache import cache

from statuspage.cache import VERSION_KEY, page_changed
from statuspage.choices import ComponentStatus, PublicStatus
from statuspage.models import PageSettings, PublicIncident
from statuspage.services.components import component_status_set
from tests.factories import UserFactory
from tests.statuspage.support import (
    STAFF,
    component_make,
    incident_make,
    page_cache,  # noqa: F401 (a fixture)
    update_post,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]
PAGES = ["/status/", "/status/history/"]


@pytest.fixture
def incident(django_capture_on_commit_callbacks):
    api = component_make("REST API", group="API")
    with django_capture_on_commit_callbacks(execute=True):
        return incident_make(title="API errors", components={api: ComponentStatus.DEGRADED})


@pytest.mark.parametrize("path", [*PAGES, "incident"])
def test_a_second_get_makes_no_query(client, incident, path, django_assert_num_queries):
    path = f"/status/incidents/{incident.pk}/" if path == "incident" else path
    first = client.get(path)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        second = client.get(path)
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert "public" in second["Cache-Control"] and "max-age=30" in second["Cache-Control"]


def test_an_update_shows_on_the_next_get(client, incident, django_capture_on_commit_callbacks):
    assert "Working on it." not in client.get("/status/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        update_post(incident, PublicStatus.IDENTIFIED, "Working on it.")
    assert "Working on it." in client.get("/status/").content.decode()
    assert "Working on it." in client.get(f"/status/incidents/{incident.pk}/").content.decode()


def test_a_component_set_through_the_service_shows_on_the_next_get(
    client, django_capture_on_commit_callbacks
):
    web = component_make("Website")
    assert "All Systems Operational" in client.get("/status/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        component_status_set(component=web, status=ComponentStatus.MAJOR_OUTAGE, by=STAFF)
    html = client.get("/status/").content.decode()
    assert "Major System Outage" in html and ">Major outage<" in html


def test_a_404_is_not_cached(client, incident, django_assert_num_queries):
    assert client.get("/status/incidents/999999/").status_code == 404
    with django_assert_num_queries(1):  # looked up again
        assert client.get("/status/incidents/999999/").status_code == 404


def test_only_get_and_head(client):
    assert client.post("/status/").status_code == 405
    assert client.head("/status/").status_code == 200


# --- private mode ---------------------------------------------------------------------------------


@pytest.fixture
def private(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        PageSettings.objects.update_or_create(pk=1, defaults={"private": True, "name": "Internal status"})
        page_changed()


@pytest.mark.parametrize("path", ["/status/", "/status/history/", "/status/incidents/1/"])
def test_private_mode_sends_anonymous_readers_to_the_login(client, private, path):
    client.get("/status/")  # nothing cached for them either way
    response = client.get(path)
    assert response.status_code == 302
    assert "/login/" in response["Location"] and "next=" in response["Location"]
    assert b"Internal status" not in response.content


def test_private_mode_serves_staff_and_keeps_it_out_of_shared_caches(client, private, incident):
    staff = UserFactory(username="ops", is_staff=True)
    client.force_login(staff)
    for _ in range(2):  # built, then from the cache
        response = client.get("/status/")
        assert response.status_code == 200
        assert "Internal status" in response.content.decode()
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_private_mode_refuses_a_logged_in_non_staff_user(client, private):
    client.force_login(UserFactory(username="customer", is_staff=False))
    assert client.get("/status/").status_code == 302


# --- gzip -----------------------------------------------------------------------------------------


def test_a_large_page_is_sent_gzipped_to_readers_that_accept_it(client, incident, django_assert_num_queries):
    plain = client.get("/status/")
    assert "Content-Encoding" not in plain and "Accept-Encoding" in plain["Vary"]
    for _ in range(2):  # built by the first reader, then from the cache
        zipped = client.get("/status/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
        assert gzip.decompress(zipped.content) == plain.content
        assert len(zipped.content) < len(plain.content) / 3
    with django_assert_num_queries(0):
        again = client.get("/status/")  # the cached gzip, unzipped for a reader without it
    assert "Content-Encoding" not in again and again.content == plain.content


def test_the_first_reader_without_gzip_gets_it_plain_and_the_next_with_gzip_zipped(client, incident):
    zipped = client.get("/status/history/", HTTP_ACCEPT_ENCODING="gzip")
    plain = client.get("/status/history/")
    assert zipped["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(zipped.content) == plain.content


def test_a_change_made_by_another_process_shows_on_the_next_get(client, incident):
    """Another process's change reaches this one through the version in the shared cache."""
    before = client.get("/status/").content
    PublicIncident.objects.filter(pk=incident.pk).update(title="Renamed elsewhere")
    assert client.get("/status/").content == before  # cached under the same version
    cache.set(VERSION_KEY, "1234567890", timeout=None)
    assert "Renamed elsewhere" in client.get("/status/").content.decode()


def test_a_query_string_no_view_reads_makes_no_cache_entry_of_its_own(client, django_assert_num_queries):
    client.get("/status/")
    client.get("/status/api/v2/summary.json")
    with django_assert_num_queries(0):
        assert client.get("/status/?x=1").status_code == 200
        assert client.get("/status/api/v2/summary.json?cachebust=2").status_code == 200
