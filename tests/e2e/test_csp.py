"""The Content-Security-Policy in a real browser: the admin, the analytics dashboard, a report
preview, Swagger UI and DRF's browsable API work under it (their scripts run, their charts and
styles load) and Chromium reports no violation on any of them. Logging in goes through django-axes.

Needs Debian's chromium and chromium-driver."""

import tempfile

import pytest
from django.core.management import call_command

from analytics.models import Report
from common.services import api_token_create
from incidents.models import Incident
from tests.e2e.test_admin_flow import CHROMEDRIVER, CHROMIUM, PASSWORD, Page
from tests.factories import UserFactory

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
    ),
]

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture
def browser():
    with tempfile.TemporaryDirectory(prefix="mitigate-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1400,1100",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(flag)
        # The console is where Chromium reports CSP violations.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=webdriver.ChromeService(str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


def violations(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Content-Security-Policy" in entry["message"]
    ]


@pytest.mark.django_db(transaction=True)
def test_admin_dashboard_and_swagger_work_under_the_csp(live_server, browser, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # The live server speaks HTTP.
    boss = UserFactory(username="boss", password=PASSWORD, is_superuser=True)
    call_command("generate_history", "--incidents", "80", "--months", "3", "--seed", "7", stdout=None)
    incident = Incident.objects.order_by("-pk").first()
    for name in ("ci", "backup"):
        api_token_create(user=boss, name=name)
    report = Report.objects.create(name="Weekly", type="incident_summary", parameters={}, enabled=True)
    page = Page(browser, live_server.url)
    seen: dict[str, list[str]] = {}

    def visit(path: str, ready: str) -> None:
        page.open(path)
        page.find(ready)
        seen[path] = violations(browser)

    page.open("/admin/login/")
    page.type("#id_username", "boss")
    page.type("#id_password", PASSWORD)
    page.click('input[type="submit"]')
    page.find("#user-tools")
    seen["login"] = violations(browser)

    visit("/admin/", "#content-main")
    visit("/admin/incidents/incident/", "#result_list")
    visit("/admin/common/apitoken/", "#result_list")
    # The admin's own script runs: "select all" ticks every row.
    page.click("#action-toggle")
    assert all(box.is_selected() for box in browser.find_elements(By.CSS_SELECTOR, "input.action-select"))
    visit(f"/admin/incidents/incident/{incident.pk}/change/", "#timeline_events-group")
    visit("/admin/analytics/dashboard/?range=90d", "svg")
    visit(f"/admin/analytics/report/{report.pk}/change/", '[data-tool="send-report-now"]')
    visit(f"/admin/analytics/report/{report.pk}/preview/", 'iframe[data-preview="html"]')
    visit("/admin/alerts/silence/add/", "#silence_form")
    visit("/admin/common/apitoken/add/", "#apitoken-form")
    # Swagger UI draws the operations only when its scripts ran and the schema loaded.
    visit("/api/docs/", ".opblock-tag")
    visit("/api/v1/incidents/", ".response-info")  # DRF's browsable API

    assert {path: found for path, found in seen.items() if found} == {}

    # Confirmations, formerly inline onsubmit handlers, still ask first (confirm.js).
    page.open(f"/admin/analytics/report/{report.pk}/change/")
    page.click('[data-tool="send-report-now"]')
    alert = browser.switch_to.alert
    assert alert.text == "Send this report for its current period now?"
    alert.dismiss()
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018
    assert browser.current_url.endswith(f"/admin/analytics/report/{report.pk}/change/")
    assert not report.runs.exists()
    assert violations(browser) == []
