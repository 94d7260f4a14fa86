"""/status/ in a real browser, on a desktop and on a 375 px phone: nothing overflows sideways, and
the banner, the groups and the history bars are there. Screenshots go to E2E_SCREENSHOT_DIR when set,
else to the test's tmp_path.

Needs Debian's chromium and chromium-driver (skipped without them, failed on CI)."""

import base64
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from statuspage.choices import ComponentStatus, Impact, PublicStatus
from statuspage.services.public_incidents import maintenance_sweep
from tests.e2e.conftest import browser  # noqa: F401 (a fixture)
from tests.statuspage.support import (
    component_make,
    incident_make,
    maintenance_make,
    page_cache,  # noqa: F401 (a fixture)
    update_post,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("page_cache")]
VIEWPORTS = {"desktop": (1280, 900, False), "phone": (375, 812, True)}


def content_make():
    """A page with something in every section: groups, an incident with a long update, maintenance
    in progress and to come, and past days in the bars."""
    web = component_make("Website", group="Web application", order=1)
    checkout = component_make("Checkout and payments with a long component name", group="Web application")
    api = component_make("REST API", group="API")
    component_make("Webhooks delivery", group="API")
    component_make("Status emails")
    now = timezone.now()
    start = now - timedelta(days=20)
    earlier = maintenance_make(
        title="Router firmware",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=5),
        components=[web],
    )
    maintenance_sweep(now=earlier.scheduled_for)
    maintenance_sweep(now=earlier.scheduled_until)
    public = incident_make(
        title="Elevated error rates on checkout",
        impact=Impact.MAJOR,
        components={checkout: ComponentStatus.PARTIAL_OUTAGE, api: ComponentStatus.DEGRADED},
    )
    update_post(public, PublicStatus.IDENTIFIED, "A" * 300 + "\nhttps://example.com/" + "x" * 120)
    maintenance_make(title="Database upgrade", scheduled_for=now + timedelta(days=1),
                     scheduled_until=now + timedelta(days=1, hours=2), components=[api])  # fmt: skip


def screenshot(driver, folder: Path, name: str) -> None:
    """The whole page, not only the viewport."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    (folder / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.django_db(transaction=True)
def test_status_page_fits_a_desktop_and_a_phone(live_server, browser, tmp_path):  # noqa: F811
    content_make()
    folder = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    for name, (width, height, mobile) in VIEWPORTS.items():
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        browser.get(live_server.url + "/status/")
        assert browser.execute_script("return window.innerWidth") == width
        overflow = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], f"{name}: the page is {overflow[0]} px wide in {overflow[1]} px"

        banner = browser.find_element(By.CSS_SELECTOR, ".banner h1")
        assert banner.is_displayed() and banner.text == "Major Service Outage"
        groups = [group.text for group in browser.find_elements(By.CSS_SELECTOR, ".group-name")]
        assert groups == ["API", "WEB APPLICATION"]  # ungrouped components come first, without a heading
        bars = browser.find_elements(By.CSS_SELECTOR, ".bar")
        assert len(bars) == 5 and all(bar.is_displayed() for bar in bars)
        # Every day shown has a cell of at least a pixel: 90 days on a desktop, the last 30 on a phone.
        cells = browser.execute_script(
            "const bar = document.querySelector('.bar');"
            "return [...bar.children].filter(c => c.getBoundingClientRect().width >= 1).length"
        )
        assert cells == (30 if mobile else 90), name
        right = browser.execute_script(
            "return Math.max(...[...document.querySelectorAll('main *')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert right <= width, f"{name}: something ends at {right} px"
        assert browser.find_element(By.CSS_SELECTOR, ".bar-ends").text.startswith("30" if mobile else "90")
        screenshot(browser, folder, f"statuspage-{name}")
    assert (folder / "statuspage-phone.png").stat().st_size > 0
