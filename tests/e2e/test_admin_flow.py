"""An ops responder's whole day in the admin, in a real browser: log in, open an incident, take it
through its lifecycle with the buttons (a P2 closes once its post-mortem is in review), and read
the timeline back.

Needs Debian's chromium and chromium-driver. Set E2E_SCREENSHOT_DIR to keep screenshots."""

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from common.actor import Actor, Source
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident
from tests.factories import UserFactory
from tests.incidents.support import postmortem_ready

PASSWORD = "a-real-Passw0rd-for-the-browser"

pytestmark = pytest.mark.integration


class Page:
    """Small helpers over the driver, each waiting for the page the action leads to."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url
        self.wait = WebDriverWait(driver, 15)

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, selector: str):
        return self.wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def type(self, selector: str, text: str) -> None:
        field = self.find(selector)
        field.clear()
        field.send_keys(text)

    def click(self, selector: str) -> None:
        self.wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, selector))).click()

    def expect_message(self, text: str) -> None:
        self.wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.messagelist"), text))

    def screenshot(self, name: str) -> None:
        folder = os.environ.get("E2E_SCREENSHOT_DIR")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            height = self.driver.execute_script("return document.body.scrollHeight")
            self.driver.set_window_size(1400, max(1100, height))
            self.driver.save_screenshot(str(Path(folder) / f"{name}.png"))
            self.driver.set_window_size(1400, 1100)


@pytest.mark.django_db(transaction=True)
def test_responder_takes_an_incident_from_open_to_closed(live_server, browser, settings):
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    ops = UserFactory(username="ops", password=PASSWORD, groups=["Responder"])
    page = Page(browser, live_server.url)

    page.open("/admin/login/")
    page.type("#id_username", "ops")
    page.type("#id_password", PASSWORD)
    page.click('input[type="submit"]')
    page.find("#user-tools")

    page.open("/admin/incidents/incident/add/")
    page.type("#id_title", "Checkout returns 502")
    Select(page.find("#id_priority")).select_by_visible_text("P2 High")
    Select(page.find("#id_users_affected")).select_by_visible_text("Many users")
    page.click('input[name="_continue"]')
    page.expect_message("was added successfully")
    incident = Incident.objects.get(title="Checkout returns 502")
    assert incident.status == IncidentStatus.NEW

    page.click('input[data-transition="acknowledge"]')
    page.expect_message(f"{incident.reference} was acknowledged.")

    page.click('a[data-transition="hold"]')
    page.screenshot("hold-form")
    page.type("#id_reason", "Waiting for the payment provider")
    page.click('input[name="_apply"]')
    page.expect_message(f"{incident.reference} was put on hold.")

    page.click('input[data-transition="resume"]')
    page.expect_message(f"{incident.reference} was resumed.")

    page.click('a[data-transition="resolve"]')
    page.type("#id_summary", "Provider fixed their TLS certificate")
    page.click('input[name="_apply"]')
    page.expect_message(f"{incident.reference} was resolved.")
    page.screenshot("incident-resolved")
    # A P2 closes only once its post-mortem is written and in review: Close shows why, with a link.
    buttons = [
        b.get_attribute("data-transition")
        for b in browser.find_elements(By.CSS_SELECTOR, "[data-transition]")
    ]
    assert buttons == ["reopen", "close"]
    reason = f"{incident.reference} is P2: write its post-mortem and submit it for review before closing."
    assert reason in page.find("#incident-close-refusal").text
    link = page.find("#incident-close-refusal a").get_attribute("href")
    assert link.endswith(f"/admin/postmortems/postmortem/create-for/{incident.pk}/")
    page.click('a[data-transition="close"]')
    page.expect_message(reason)
    page.find("ul.messagelist a.incident-refusal-link")  # The refusal links to the fix.
    postmortem_ready(incident=incident, by=Actor(user=ops, source=Source.ADMIN))
    browser.refresh()

    page.click('a[data-transition="close"]')
    page.type("#id_note", "Post-mortem in review")
    page.click('input[name="_apply"]')
    page.expect_message(f"{incident.reference} was closed.")
    page.screenshot("incident-closed")

    timeline = page.find("#incident-timeline").text
    for text in (
        "P2 incident opened: Checkout returns 502",
        "Acknowledged by ops.",
        "Put on hold: Waiting for the payment provider",
        "Resumed by ops.",
        "Resolved: Provider fixed their TLS certificate",
        "Post-mortem drafted.",
        "Post-mortem submitted for review.",
        "Closed: Post-mortem in review",
    ):
        assert text in timeline, f"{text!r} missing from the timeline:\n{timeline}"
    page.open("/admin/incidents/incident/")
    page.find("#result_list")
    page.screenshot("changelist")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert list(incident.timeline_events.values_list("kind", flat=True)) == [
        EventKind.CREATED,
        EventKind.ACKNOWLEDGED,
        EventKind.HELD,
        EventKind.RESUMED,
        EventKind.RESOLVED,
        EventKind.POSTMORTEM,
        EventKind.POSTMORTEM,
        EventKind.CLOSED,
    ]
    assert set(incident.timeline_events.values_list("source", flat=True)) == {"admin"}
