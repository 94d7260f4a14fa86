"""The alert source page as a browser renders it: the placeholders <token> and <slug> are shown, not
swallowed as unknown tags, and the body limit's box shows all of 1048576."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from alerts.services import alert_source_create
from common.actor import Actor
from tests.factories import UserFactory

PASSWORD = "a-real-Passw0rd-for-the-browser"

pytestmark = pytest.mark.integration


@pytest.mark.django_db(transaction=True)
def test_the_source_page_shows_its_placeholders_and_the_whole_limit(live_server, browser, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # Plain HTTP.
    UserFactory(username="boss", password=PASSWORD, is_superuser=True)
    source, _ = alert_source_create(by=Actor.system(), name="Prometheus", slug="prom", kind="alertmanager")
    wait = WebDriverWait(browser, 15)

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.ID, "id_username").send_keys("boss")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'input[type="submit"]').click()
    wait.until(ec.presence_of_element_located((By.ID, "user-tools")))
    browser.get(f"{live_server.url}/admin/alerts/alertsource/{source.pk}/change/")
    setup = wait.until(ec.presence_of_element_located((By.ID, "webhook-setup")))

    assert "Below, <token> stands for it." in setup.text
    assert "/hooks/<token>/" in browser.find_element(By.ID, "token-url").text
    help_text = browser.find_element(By.CSS_SELECTOR, ".field-slug .help").text
    assert "Used in /hooks/<slug>/ with a bearer token" in help_text
    box = browser.find_element(By.ID, "id_max_body_bytes")
    assert box.get_attribute("value") == "1048576"
    # Wide enough for the digits and the number spinner: nothing scrolled out of view.
    fits = browser.execute_script(
        "const box = arguments[0];"
        "const probe = document.createElement('span');"
        "probe.style.font = getComputedStyle(box).font;"
        "probe.textContent = box.value;"
        "document.body.appendChild(probe);"
        "const text = probe.getBoundingClientRect().width;"
        "probe.remove();"
        "const style = getComputedStyle(box);"
        "const inner = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);"
        "return [text, inner];",
        box,
    )
    text_width, inner_width = fits
    # The spinner takes about 15 px of the inner width in Chromium.
    assert text_width + 15 <= inner_width, fits
