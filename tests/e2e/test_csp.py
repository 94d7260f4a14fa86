"""The Content-Security-Policy in a real browser: the admin, the analytics dashboard, a report
preview, Swagger UI and DRF's browsable API work under it (their scripts run, their charts and
styles load) and Chromium reports no violation on any of them. Logging in goes through django-axes.

Needs Debian's chromium and chromium-driver."""

import pytest
from django.core.management import call_command
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from analytics.models import Report
from common.services import api_token_create
from incidents.models import Incident
from tests.e2e.test_admin_flow import PASSWORD, Page
from tests.factories import UserFactory

pytestmark = pytest.mark.integration


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
    visit(f"/admin/incidents/incident/{incident.pk}/change/", "#incident-timeline")
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
