"""Drills in the admin: scenarios (with a Start button), runs (timings, a Cancel button), reports
(editable, with timings and responders, downloadable as Markdown) and schedules."""

from drills.admin.reports import DrillReportAdmin
from drills.admin.runs import DrillRunAdmin
from drills.admin.scenarios import DrillScenarioAdmin
from drills.admin.schedules import DrillScheduleAdmin

__all__ = ["DrillReportAdmin", "DrillRunAdmin", "DrillScenarioAdmin", "DrillScheduleAdmin"]
