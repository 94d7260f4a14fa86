"""The public pages as a reader gets them: /status/, an incident's page, the history, the logo."""

import hashlib
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from statuspage.cache import page_changed
from statuspage.choices import ComponentStatus, Impact, PublicStatus
from statuspage.models import PageSettings
from statuspage.selectors import page_overview
from statuspage.services.components import component_status_set
from statuspage.services.public_incidents import maintenance_sweep
from tests.statuspage.support import (
    STAFF,
    component_make,
    incident_make,
    maintenance_make,
    page_cache,  # noqa: F401 (a fixture)
    update_post,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]
INDEX = "/status/"


@pytest.fixture
def settings_set(django_capture_on_commit_callbacks):
    """Change the page's settings as the admin does: the row, then the page's version moves on."""

    def change(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            PageSettings.objects.update_or_create(pk=1, defaults=fields)
            page_changed()

    return change


def get(client, path):
    response = client.get(path)
    return response, response.content.decode()


def test_index_shows_the_banner_groups_components_and_a_bar_a_day(client):
    component_make("Website", group="Web", order=1)
    component_make("Checkout", group="Web", order=2)
    component_make("REST API", group="API")
    component_make("Hidden thing", shown=False)

    response, html = get(client, INDEX)

    assert response.status_code == 200
    assert "All Systems Operational" in html
    assert html.index("API") < html.index("REST API")
    assert html.index(">Web<") < html.index("Website") < html.index("Checkout")
    assert "Hidden thing" not in html
    assert html.count('<ol class="bar"') == 3
    bar = re.search(r'<ol class="bar"[^>]*>(.*?)</ol>', html).group(1)
    assert bar.count("<li") == 90
    assert "No incidents" in bar
    assert 'href="/status/subscribe/"' in html
    assert "csrfmiddlewaretoken" not in html


def test_component_status_follows_the_incident_updates(client, django_capture_on_commit_callbacks):
    api, _ = component_make("REST API"), component_make("Website")
    with django_capture_on_commit_callbacks(execute=True):
        public = incident_make(
            title="Errors on the API", impact=Impact.MINOR, components={api: ComponentStatus.PARTIAL_OUTAGE}
        )
    _, html = get(client, INDEX)
    assert re.search(r'class="status s-partial_outage">Partial outage<', html)
    # A partial outage is Statuspage's "minor"; on a tie with the impact the components' words win.
    assert 'class="banner i-minor"' in html and "Partial System Outage" in html
    assert "Errors on the API" in html

    with django_capture_on_commit_callbacks(execute=True):
        update_post(public, PublicStatus.IDENTIFIED, "Bad deploy, rolling back.",
                    components={api: ComponentStatus.MAJOR_OUTAGE})  # fmt: skip
    _, html = get(client, INDEX)
    assert 'class="banner i-major"' in html and "Partial System Outage" in html
    assert re.search(r'class="status s-major_outage">Major outage<', html)

    with django_capture_on_commit_callbacks(execute=True):
        update_post(public, PublicStatus.RESOLVED, "Rolled back; all good.")
    _, html = get(client, INDEX)
    assert 'class="banner i-none"' in html and "All Systems Operational" in html
    assert not re.search(r'class="status s-(?!operational)', html)
    assert "Active incidents" not in html
    # Today's cell remembers the worst of the day and names the incident.
    today = re.findall(r'<li class=(\w) title="([^"]*)"', html)[89]  # the API's bar comes first
    assert today[0] == "x"  # statuspage.selectors.CELL_CODE
    assert "Errors on the API" in today[1]


def test_every_component_down_is_critical(client, django_capture_on_commit_callbacks):
    components = {component_make(name): ComponentStatus.MAJOR_OUTAGE for name in ("API", "Website")}
    with django_capture_on_commit_callbacks(execute=True):
        incident_make(title="Everything is down", impact=Impact.MINOR, components=components)
    _, html = get(client, INDEX)
    assert 'class="banner i-critical"' in html and "Major System Outage" in html


def test_a_critical_incident_wins_over_mild_components(client, django_capture_on_commit_callbacks):
    api = component_make("API")
    with django_capture_on_commit_callbacks(execute=True):
        incident_make(
            title="Data loss risk", impact=Impact.CRITICAL, components={api: ComponentStatus.DEGRADED}
        )
    _, html = get(client, INDEX)
    assert 'class="banner i-critical"' in html and "Major System Outage" in html


def test_active_incident_shows_its_updates_newest_first_escaped_with_line_breaks(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        public = incident_make(title="Logins fail", message="First word.")
        update_post(public, PublicStatus.IDENTIFIED, "<script>alert(1)</script>\nSecond line & more")
    _, html = get(client, INDEX)
    assert html.index("&lt;script&gt;alert(1)&lt;/script&gt;<br>Second line &amp; more") < html.index(
        "First word."
    )
    assert "<script>alert" not in html


def test_the_banner_says_maintenance_only_when_nothing_is_worse(client, django_capture_on_commit_callbacks):
    db = component_make("Database")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        maintenance_make(scheduled_for=now - timedelta(minutes=5), scheduled_until=now + timedelta(hours=1),
                         components=[db])  # fmt: skip
        maintenance_make(title="Network work", scheduled_for=now + timedelta(days=2),
                         scheduled_until=now + timedelta(days=2, hours=1))  # fmt: skip
        maintenance_sweep(now=now)
    _, html = get(client, INDEX)
    assert "Service Under Maintenance" in html
    assert "Under maintenance" in html
    # In progress first, then what is coming.
    assert html.index("Database upgrade") < html.index("Network work")

    with django_capture_on_commit_callbacks(execute=True):
        incident_make(title="Slow pages", impact=Impact.MINOR)
    _, html = get(client, INDEX)
    assert "Minor Service Outage" in html


def test_the_index_runs_the_same_queries_for_2_or_30_components(django_assert_num_queries):
    def make(count, start):
        for n in range(start, start + count):
            component = component_make(f"Component {n}", group=f"Group {n % 4}")
            component_status_set(component=component, status=ComponentStatus.DEGRADED, by=STAFF)
            incident_make(title=f"Incident {n}", components={component: ComponentStatus.PARTIAL_OUTAGE})

    make(2, 0)
    # components, open incidents, their updates, their components, status changes, incident titles
    with django_assert_num_queries(6):
        small = page_overview(days=90, time_zone="Europe/Berlin")
    make(28, 2)
    with django_assert_num_queries(6):
        big = page_overview(days=90, time_zone="Europe/Berlin")
    assert sum(len(group.components) for group in small.groups) == 2
    assert sum(len(group.components) for group in big.groups) == 30
    assert len(big.incidents) == 30


def test_nothing_internal_is_shown(client, open_incident, django_capture_on_commit_callbacks):
    internal = open_incident(title="db-7 primary lost quorum, PagerDuty secret in runbook",
                             description="Internal: customer acme.example lost writes")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        public = incident_make(title="Degraded checkout", incident=internal)
        update_post(public, PublicStatus.RESOLVED, "Fixed.")
    for path in (INDEX, f"/status/incidents/{public.pk}/", "/status/history/"):
        response, html = get(client, path)
        assert response.status_code == 200, path
        assert "db-7" not in html and "acme.example" not in html and internal.reference not in html


# --- an incident's page ---------------------------------------------------------------------------


def test_incident_page_lists_updates_oldest_first_in_the_page_time_zone(
    client, settings_set, django_capture_on_commit_callbacks
):
    settings_set(time_zone="Asia/Tokyo")
    api = component_make("REST API")
    with django_capture_on_commit_callbacks(execute=True):
        public = incident_make(title="API errors", message="Looking.\nMore soon.", impact=Impact.CRITICAL,
                               components={api: ComponentStatus.MAJOR_OUTAGE})  # fmt: skip
        update_post(public, PublicStatus.RESOLVED, "Fixed.")
    first = public.updates.order_by("created_at").first()

    response, html = get(client, reverse("statuspage:incident", args=[public.pk]))

    assert response.status_code == 200
    assert html.index("Looking.<br>More soon.") < html.index("Fixed.")
    assert "Impact: Critical" in html
    assert "Affected: REST API" in html
    local = timezone.localtime(first.created_at, timezone=ZoneInfo("Asia/Tokyo"))
    assert f"{local:%H:%M} JST" in html
    assert "Times are in Asia/Tokyo" in html


def test_maintenance_page_shows_its_window(client, settings_set, django_capture_on_commit_callbacks):
    settings_set(time_zone="UTC")
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        window = maintenance_make(scheduled_for=start, scheduled_until=start + timedelta(hours=2))
    _, html = get(client, reverse("statuspage:incident", args=[window.pk]))
    assert f"{start:%-d %b %Y, %H:%M} \u2013 {start + timedelta(hours=2):%-d %b %Y, %H:%M} UTC" in html
    assert "Scheduled" in html


def test_unknown_incident_is_a_404(client):
    assert client.get("/status/incidents/999999/").status_code == 404


# --- the history ----------------------------------------------------------------------------------


def past_window(title, days_ago):
    """A maintenance that ran `days_ago` days ago: scheduled, then completed by the sweep."""
    start = timezone.now() - timedelta(days=days_ago)
    window = maintenance_make(title=title, scheduled_for=start, scheduled_until=start + timedelta(hours=1))
    maintenance_sweep(now=start + timedelta(hours=2))
    return window


def test_history_lists_ended_incidents_by_month_newest_first_three_months_a_page(
    client, settings_set, django_capture_on_commit_callbacks
):
    settings_set(time_zone="UTC")
    with django_capture_on_commit_callbacks(execute=True):
        recent = incident_make(title="Resolved today")
        update_post(recent, PublicStatus.RESOLVED, "Done.")
        incident_make(title="Still open")
        past_window("Old window", days_ago=200)

    response, html = get(client, "/status/history/")
    assert response.status_code == 200
    assert "Resolved today" in html and "Still open" not in html and "Old window" not in html
    assert f'href="/status/incidents/{recent.pk}/"' in html
    months = re.findall(r"<h2>(\w+ \d{4})</h2>", html)
    assert len(months) == 3 and months[0] == f"{timezone.now():%B %Y}"
    assert "No incidents reported this month." in html
    assert 'href="?page=2"' in html

    pages = [get(client, f"/status/history/?page={n}")[1] for n in (2, 3)]
    found = [n for n, page in enumerate(pages, start=2) if "Old window" in page]
    assert found, "the 200-day-old window is on page 2 or 3"
    assert 'rel="next"' not in pages[found[0] - 2]  # nothing older than it


@pytest.mark.parametrize("page", ["0", "abc", "999", "-1", "1" * 40])
def test_history_pages_that_do_not_exist_are_404s(client, page):
    assert client.get(f"/status/history/?page={page}").status_code == 404


# --- the logo -------------------------------------------------------------------------------------

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 20


def logo_url(content):
    return reverse("statuspage:logo", args=[hashlib.sha256(content).hexdigest()[:16]])


def test_logo_is_served_with_its_type_a_long_cache_and_nosniff(client, settings_set):
    settings_set(logo=PNG, logo_content_type="image/png")
    _, html = get(client, INDEX)
    assert f'src="{logo_url(PNG)}"' in html
    for _ in range(2):  # built, then from the cache: the same headers
        response = client.get(logo_url(PNG))
        assert response.status_code == 200
        assert response.content == PNG
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "max-age=31536000" in response["Cache-Control"]


def test_an_svg_logo_is_sandboxed(client, settings_set):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    settings_set(logo=svg, logo_content_type="image/svg+xml")
    response = client.get(logo_url(svg))
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_no_logo_an_old_digest_or_an_unsafe_type_is_a_404(client, settings_set):
    assert client.get(logo_url(PNG)).status_code == 404
    settings_set(logo=PNG, logo_content_type="image/png")
    assert client.get(logo_url(b"the old logo")).status_code == 404
    settings_set(logo=b"<html>hi</html>", logo_content_type="text/html")
    assert client.get(logo_url(b"<html>hi</html>")).status_code == 404
