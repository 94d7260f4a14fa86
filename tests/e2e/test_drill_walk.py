"""A drill from end to end in a real browser, by a responder: the ops home, an ordinary incident
opened from it, then a synthetic-alert scenario started with its Start button; the alert's
processing opens the drill incident, found on the ops home; acknowledge it, run an action from its
page, resolve it; the drill ends and its report shows the timings, takes observations and a score,
and downloads as Markdown. Every step leaves a numbered screenshot (and the Markdown) in the test's
output directory (E2E_SCREENSHOT_DIR/drill-walk, else the test's tmp_path).

The worker's part (processing the alert, executing the run, ending the drill when its incident
resolves) is done in-process between the browser steps, with the functions the Celery tasks call.
Needs Debian's chromium and chromium-driver."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from actions.choices import RunStatus
from actions.models import ActionRun
from actions.services import action_run_execute
from alerts.services.processing import alerts_process
from common.actor import Actor, Source
from drills.choices import DrillStatus, StartMode
from drills.models import DrillReport, DrillRun
from drills.tasks import end_drill_runs
from incidents.choices import IncidentStatus
from incidents.models import Incident
from incidents.services import incident_create
from tests.actions.conftest import local_provider  # noqa: F401 (fixture)
from tests.actions.execution_support import make_action
from tests.drills.conftest import drill_rule, drill_source, scenario  # noqa: F401 (fixtures)
from tests.e2e.test_admin_flow import PASSWORD
from tests.e2e.test_ops_home import Walk
from tests.factories import UserFactory

pytestmark = pytest.mark.integration

TIMINGS = ("detect", "acknowledge", "first_action", "resolve")


class DrillWalk(Walk):
    """The ops-home walk, with the drill's steps; its screenshots are numbered in the order taken,
    so the home and the war room, seen twice, keep both pictures."""

    def __init__(self, driver, base_url: str, shots: Path):
        super().__init__(driver, base_url, shots)
        self.taken = 0

    def screenshot(self, name: str) -> Path:
        self.taken += 1
        return super().screenshot(f"{self.taken:02d}-{name}")

    def open_scenario_from_home(self, name: str) -> None:
        """Drills > Drill scenarios in the home's app list, then the scenario."""
        self.page.open("/admin/")
        self.page.click(f'#content-main a[href="{reverse("admin:drills_drillscenario_changelist")}"]')
        self.page.find("#result_list")
        self.screenshot("drill-scenarios")
        self.driver.find_element(By.LINK_TEXT, name).click()
        self.page.find('input[data-tool="start-drill"]')
        self.screenshot("drill-scenario")

    def start_drill(self) -> None:
        """The Start button asks first (common/confirm.js): say yes."""
        self.page.click('input[data-tool="start-drill"]')
        self.page.wait.until(ec.alert_is_present()).accept()
        self.page.expect_message("started.")
        self.screenshot("drill-started")

    def await_incident_on_run_page(self) -> str:
        """The run page reloads itself until the incident opens; returns the incident's cell."""
        link = self.page.find(".field-incident_display a")
        self.screenshot("drill-incident-opened")
        return link.text

    def run_action(self, name: str) -> None:
        """The war room's Run action button, the action chosen, its form sent."""
        self.page.click("#incident-run-action")
        Select(self.page.find("#id_action")).select_by_visible_text(name)
        self.page.click('#choose-action-form input[type="submit"]')
        self.page.find("#run-action-form")
        self.screenshot("run-action-form")
        self.page.click('#run-action-form input[name="_run"]')
        self.page.expect_message(f"Started {name}")
        self.screenshot("run-requested")

    def run_output(self) -> str:
        self.driver.refresh()
        output = self.page.find("#run-steps .run-stdout").text
        self.screenshot("run-done")
        return output

    def open_drill_from_incident(self) -> None:
        self.page.click("#incident-drill")
        self.page.find("table.drill-timings")

    def timings(self) -> dict[str, str]:
        return {
            name: self.page.find(f'table.drill-timings td[data-timing="{name}"]').text for name in TIMINGS
        }

    def write_report(self, *, observations: str, score: int, improvements: str) -> None:
        self.page.type("#id_observations", observations)
        self.page.type("#id_score", str(score))
        self.page.type("#id_improvements", improvements)
        self.page.click('input[name="_continue"]')
        self.page.expect_message("was changed successfully")
        self.screenshot("drill-report-saved")

    def download_markdown(self, filename: str) -> str:
        """Chromium saves the download into the output directory; returns its text."""
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.shots)}
        )
        path = self.shots / filename
        path.unlink(missing_ok=True)  # Left by an earlier run into the same E2E_SCREENSHOT_DIR.
        self.page.click('a[data-tool="drill-report-markdown"]')
        WebDriverWait(self.driver, 15).until(lambda _: path.exists() and path.stat().st_size > 0)
        return path.read_text()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = os.environ.get("E2E_SCREENSHOT_DIR")
    return Path(folder) / "drill-walk" if folder else tmp_path / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_responder_runs_a_synthetic_alert_drill_from_the_ops_home_to_its_report(
    live_server,
    browser,
    settings,
    shots,
    priorities,
    local_provider,  # noqa: F811 (fixture)
    drill_source,  # noqa: F811 (fixture)
    drill_rule,  # noqa: F811 (fixture)
    scenario,  # noqa: F811 (fixture)
):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # The live server speaks HTTP.
    ops = UserFactory(username="ops", password=PASSWORD, groups=["Responder"])
    real = incident_create(
        by=Actor(user=ops, source=Source.ADMIN), title="Checkout returns 502", priority=priorities["P2"]
    )
    action = make_action(local_provider, "echo pool-restarted", name="Restart connection pool")
    drill = scenario(
        name="Database connection exhaustion",
        start_mode=StartMode.SYNTHETIC_ALERT,
        source=drill_source,
        simulated="The pool on db-1 runs out of connections.",
        expected_response="Acknowledge, restart the pool, resolve.",
    )
    walk = DrillWalk(browser, live_server.url, shots)

    walk.log_in("ops", PASSWORD)
    assert real.reference in walk.open_home()
    walk.open_incident_from_home(real)
    assert "Checkout returns 502" in walk.page.find("#content").text
    assert not browser.find_elements(By.CSS_SELECTOR, "#incident-drill")  # A real incident.

    walk.open_scenario_from_home(drill.name)
    walk.start_drill()
    run = DrillRun.objects.get()
    assert run.scenario == drill and run.status == DrillStatus.RUNNING and run.started_by == ops
    assert run.alert is not None and run.alert.source == drill_source and run.alert.incident is None
    assert "not opened yet" in walk.page.find(".field-incident_display").text

    alerts_process(alert_ids=[run.alert_id])  # The worker processes the synthetic alert.
    incident = Incident.objects.get(alerts=run.alert)
    assert incident.is_drill and incident != real and incident.status == IncidentStatus.NEW
    assert walk.await_incident_on_run_page() == incident.reference

    home = walk.open_home()
    assert incident.reference in home and real.reference in home
    assert walk.home_row(incident).find_element(By.CSS_SELECTOR, ".ops-drill").text == "drill"
    walk.open_incident_from_home(incident)
    assert (
        walk.page.find("#incident-drill")
        .get_attribute("href")
        .endswith(reverse("admin:drills_drillrun_change", args=[run.pk]))
    )

    walk.transition("acknowledge", f"{incident.reference} was acknowledged.")
    walk.screenshot("drill-acknowledged")
    walk.run_action(action.name)
    action_run = ActionRun.objects.get(incident=incident)
    assert action_run.action == action and action_run.requested_by == ops
    assert action_run.status == RunStatus.SCHEDULED
    action_run_execute(run_id=action_run.pk, task_id=action_run.task_id)  # The worker runs it.
    assert ActionRun.objects.get(pk=action_run.pk).status == RunStatus.SUCCEEDED
    assert "pool-restarted" in walk.run_output()

    walk.page.open(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert action.name in walk.page.find(".incident-action-runs").text
    walk.transition(
        "resolve", f"{incident.reference} was resolved.", id_summary="Restarted the pool: it recovered."
    )
    walk.screenshot("drill-resolved")
    assert end_drill_runs(incident.pk) == 1  # The worker ends the drill of a resolved incident.
    run = DrillRun.objects.get(pk=run.pk)  # Its status is protected: read it afresh.
    assert run.status == DrillStatus.COMPLETED and run.incident == incident
    report = DrillReport.objects.get(run=run)

    browser.refresh()  # The Drill button now leads to the report.
    walk.open_drill_from_incident()
    assert browser.current_url.endswith(reverse("admin:drills_drillreport_change", args=[report.pk]))
    timings = walk.timings()
    assert all(text and text != "—" for text in timings.values()), timings
    assert "ops" in walk.page.find(".field-responders").text
    walk.screenshot("drill-report")

    walk.write_report(observations="Paged within a minute.", score=8, improvements="Automate the restart.")
    report.refresh_from_db()
    assert (report.observations, report.score, report.improvements) == (
        "Paged within a minute.",
        8,
        "Automate the restart.",
    )
    markdown = walk.download_markdown(f"drill-{run.pk}-report.md")
    assert "# Drill report: Database connection exhaustion" in markdown
    assert "**Score**: 8/10" in markdown and "Paged within a minute." in markdown
    for label in ("Time to detect", "Time to acknowledge", "Time to first action", "Time to resolve"):
        assert f"| {label} | " in markdown and f"| {label} | — |" not in markdown
    assert f"- **Incident**: {incident.reference}" in markdown

    assert {path.name for path in shots.iterdir()} >= {
        "01-ops-home.png",
        "02-war-room.png",
        "03-drill-scenarios.png",
        f"drill-{run.pk}-report.md",
    }
