"""seed_demo's drills: the scenario library, a drill source, and one completed drill with its
report, its timings measured from the record; seeding again adds nothing."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from alerts.models import AlertSource
from drills.choices import DrillStatus, StartMode
from drills.markdown import report_markdown
from drills.models import DrillReport, DrillRun, DrillScenario
from drills.selectors import drill_run_get, drill_timings


@pytest.fixture(autouse=True)
def _demo(db, settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--no-history", stdout=out)
    return out.getvalue()


def test_the_demo_has_a_completed_drill_with_its_report_and_timings():
    out = seed()

    assert "A completed drill with its report" in out
    assert DrillScenario.objects.count() == 5
    assert AlertSource.objects.get(slug="drills").is_drill
    run = drill_run_get(pk=DrillRun.objects.get().pk)
    assert run.status == DrillStatus.COMPLETED and run.scenario.start_mode == StartMode.SYNTHETIC_ALERT
    assert run.incident.is_drill and run.alert.incident == run.incident
    timings = drill_timings(run)
    assert timings.detect == timedelta(0)  # The alert was processed as it came in.
    assert timings.acknowledge == timedelta(minutes=4)
    assert timings.resolve == timedelta(minutes=31)
    report = DrillReport.objects.get(run=run)
    assert report.score == 7 and "pg_stat_activity" in report.observations
    assert "alice" in report_markdown(report)


def test_seeding_again_adds_no_drill_and_no_scenario():
    seed()
    seed()
    assert DrillRun.objects.count() == 1 and DrillScenario.objects.count() == 5
