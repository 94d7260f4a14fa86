"""Every write to drills goes through these functions: admin, API, commands and tasks alike."""

from drills.services.notify import participants_notify
from drills.services.runs import (
    drill_report_update,
    drill_run_cancel,
    drill_run_complete,
    drill_run_start,
    drill_runs_end_for_incident,
    drill_runs_sweep,
)
from drills.services.scenarios import (
    drill_scenario_delete,
    drill_scenario_save,
    drill_scenarios_seed_standard,
)
from drills.services.schedules import drill_schedule_delete, drill_schedule_run, drill_schedule_save

__all__ = [
    "drill_report_update",
    "drill_run_cancel",
    "drill_run_complete",
    "drill_run_start",
    "drill_runs_end_for_incident",
    "drill_runs_sweep",
    "drill_scenario_delete",
    "drill_scenario_save",
    "drill_scenarios_seed_standard",
    "drill_schedule_delete",
    "drill_schedule_run",
    "drill_schedule_save",
    "participants_notify",
]
