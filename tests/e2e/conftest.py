"""The browser the end-to-end tests drive: headless Chromium through chromedriver, skipped on a
machine without them (failed on CI, which installs them)."""

import tempfile

import pytest
from selenium import webdriver

from tests.programs import require_programs


@pytest.fixture
def browser():
    programs = require_programs(
        "chromium", "chromedriver", install="apt-get install chromium chromium-driver"
    )
    with tempfile.TemporaryDirectory(prefix="mitigate-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = programs["chromium"]
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
        # The console is where Chromium reports CSP violations (tests/e2e/test_csp.py reads it).
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=webdriver.ChromeService(programs["chromedriver"]), options=options)
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()
