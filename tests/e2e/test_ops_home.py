"""The ops home and the war room in a real browser: log in, the home shows an open incident with its
SLA clock, open it from there, read the war-room header and timeline, add a note with the quick
form and filter the timeline. Every step leaves a screenshot in the test's output directory
(E2E_SCREENSHOT_DIR, else the test's tmp_path).

`Walk` holds the steps as methods, so other walks (a drill from alert to report) reuse them.
Needs Debian's chromium and chromium-driver."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from common.actor import Actor, Source
from incidents.choices import EventKind
from incidents.models import Incident
from incidents.services import incident_create
from tests.e2e.test_admin_flow import PASSWORD, Page
from tests.factories import UserFactory

pytestmark = pytest.mark.integration


class Walk:
    """A responder's steps through the admin, each checking the page it leads to."""

    def __init__(self, driver, base_url: str, shots: Path):
        self.driver = driver
        self.page = Page(driver, base_url)
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)

    def screenshot(self, name: str) -> Path:
        """The whole page, however long."""
        height = self.driver.execute_script("return document.body.scrollHeight")
        self.driver.set_window_size(1400, max(1100, height))
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1400, 1100)
        return path

    def log_in(self, username: str, password: str) -> None:
        self.page.open("/admin/login/")
        self.page.type("#id_username", username)
        self.page.type("#id_password", password)
        self.page.click('input[type="submit"]')
        self.page.find("#user-tools")

    def open_home(self) -> str:
        """The ops home; returns its open incidents section's text."""
        self.page.open("/admin/")
        section = self.page.find("#home-open-incidents")
        self.screenshot("ops-home")
        return section.text

    def home_row(self, incident: Incident):
        return self.page.find(f'#home-open-incidents tr[data-incident="{incident.reference}"]')

    def open_incident_from_home(self, incident: Incident) -> None:
        self.home_row(incident).find_element(By.LINK_TEXT, incident.reference).click()
        self.page.find("#warroom-header")
        self.screenshot("war-room")

    def add_note(self, text: str) -> None:
        self.page.type("#id_quick-note-message", text)
        self.page.click('#quick-note-form input[type="submit"]')
        self.page.expect_message("Note added to the timeline.")
        self.screenshot("note-added")

    def transition(self, name: str, done: str, **fields: str) -> None:
        """Apply a lifecycle transition from the war-room header: a button, or a link to its form
        (filled with `fields`, by input id) for those that take input."""
        button = self.page.find(f'#incident-lifecycle [data-transition="{name}"]')
        takes_input = button.tag_name == "a"
        button.click()
        if takes_input:
            for field_id, value in fields.items():
                self.page.type(f"#{field_id}", value)
            self.page.click('input[name="_apply"]')
        self.page.expect_message(done)
        self.page.find("#warroom-header")

    def narrow(self, width: int = 420) -> dict[str, int]:
        """The page on a phone: returns where the timeline and the quick forms start."""
        self.driver.set_window_size(width, 900)
        tops = {
            name: self.page.find(selector).location["y"]
            for name, selector in (("timeline", "#incident-timeline"), ("quick", ".warroom-quick"))
        }
        path = self.shots / "war-room-narrow.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1400, 1100)
        return tops

    def filter_timeline(self, key: str) -> list[str]:
        """Follow a filter link; returns the kinds of the lines shown."""
        self.page.click(f'a[data-timeline-filter="{key}"]')
        self.page.find(f'a[data-timeline-filter="{key}"].active')
        self.screenshot(f"timeline-{key}")
        return [
            line.get_attribute("data-kind")
            for line in self.driver.find_elements(By.CSS_SELECTOR, "#timeline-events li[data-kind]")
        ]


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = os.environ.get("E2E_SCREENSHOT_DIR")
    return Path(folder) / "ops-home" if folder else tmp_path / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_responder_finds_an_incident_on_the_home_and_works_it_in_the_war_room(
    live_server, browser, settings, shots
):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # The live server speaks HTTP.
    ops = UserFactory(username="ops", password=PASSWORD, groups=["Responder"])
    from incidents.models import Priority

    incident = incident_create(
        by=Actor(user=ops, source=Source.ADMIN),
        title="Checkout returns 502",
        priority=Priority.objects.get(code="P1"),
        bridge_url="https://meet.example.com/checkout",
    )
    # Its response target is past: the home shows the clock breached, in red.
    Incident.objects.filter(pk=incident.pk).update(response_due_at=timezone.now() - timedelta(minutes=3))
    walk = Walk(browser, live_server.url, shots)

    walk.log_in("ops", PASSWORD)
    home = walk.open_home()
    assert incident.reference in home
    clock = walk.home_row(incident).find_element(By.CSS_SELECTOR, ".sla-clock.sla-response")
    assert "breached" in clock.text
    assert "sla-breached" in clock.get_attribute("class")
    assert clock.value_of_css_property("color") != walk.home_row(incident).value_of_css_property("color")

    walk.open_incident_from_home(incident)
    header = walk.page.find("#warroom-header").text
    assert "P1" in header and "New" in header and "Response" in header
    assert walk.page.find("#warroom-bridge").get_attribute("href") == "https://meet.example.com/checkout"
    assert walk.page.find('input[data-transition="acknowledge"]')
    assert "P1 incident opened: Checkout returns 502" in walk.page.find("#incident-timeline").text

    walk.add_note("Rolled back the 14:02 deploy.")
    assert "Rolled back the 14:02 deploy." in walk.page.find("#incident-timeline").text
    assert incident.timeline_events.filter(kind=EventKind.NOTE, source="admin").count() == 1

    assert walk.filter_timeline("notes") == [EventKind.NOTE]
    assert "P1 incident opened" not in walk.page.find("#timeline-events").text
    assert set(walk.filter_timeline("all")) == {EventKind.CREATED, EventKind.NOTE}

    walk.transition("acknowledge", f"{incident.reference} was acknowledged.")
    assert walk.page.find("#warroom-clocks .sla-response.sla-breached")  # Late, and it stays so.
    walk.transition("hold", f"{incident.reference} was put on hold.", id_reason="Waiting for the vendor")
    assert "Put on hold: Waiting for the vendor" in walk.page.find("#incident-timeline").text
    tops = walk.narrow()
    assert tops["quick"] > tops["timeline"]  # One column on a phone: the quick forms come after.
    assert {path.name for path in shots.iterdir()} >= {"ops-home.png", "war-room.png", "timeline-notes.png"}
