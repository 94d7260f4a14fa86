"""A drill report as Markdown (the admin's download and the API's export)."""

from datetime import timedelta

from common.formatting import duration_hours_minutes
from drills.models import DrillReport
from drills.selectors import drill_incident, drill_responders, drill_timings

TIMING_LABELS = {
    "detect": "Time to detect",
    "acknowledge": "Time to acknowledge",
    "first_action": "Time to first action",
    "resolve": "Time to resolve",
}


def _text(value: str, empty: str = "_None recorded._") -> str:
    return value.strip() or empty


def duration_text(value: timedelta | None) -> str:
    return duration_hours_minutes(value) or "—"


def report_markdown(report: DrillReport) -> str:
    run = report.run
    scenario = run.scenario
    incident = drill_incident(run)
    timings = drill_timings(run)
    lines = [
        f"# Drill report: {scenario.name}",
        "",
        f"- **Drill**: #{run.pk} ({run.get_status_display().lower()})",
        f"- **Type**: {scenario.get_kind_display()}",
        f"- **Started**: {run.started_at:%Y-%m-%d %H:%M %Z}",
        f"- **Ended**: {run.ended_at:%Y-%m-%d %H:%M %Z}" if run.ended_at else "- **Ended**: —",
        f"- **Incident**: {incident.reference} {incident.title}" if incident else "- **Incident**: —",
        f"- **Score**: {report.score}/10" if report.score is not None else "- **Score**: not scored",
        *([f"- **Cancelled because**: {run.cancel_reason}"] if run.cancel_reason else []),
        "",
        "## Scenario",
        "",
        _text(scenario.description),
        "",
        f"**Simulated**: {_text(scenario.simulated)}",
        "",
        f"**Expected response**: {_text(scenario.expected_response)}",
        "",
        "## Timings",
        "",
        "| Measure | Time |",
        "| --- | --- |",
        *(f"| {label} | {duration_text(getattr(timings, name))} |" for name, label in TIMING_LABELS.items()),
        "",
        "## Who responded",
        "",
    ]
    responders = drill_responders(run)
    lines += [
        f"- {r.name}{' (' + ', '.join(r.roles) + ')' if r.roles else ''}, first at {r.first_at:%H:%M:%S}"
        for r in responders
    ] or ["_Nobody on the record._"]
    lines += [
        "",
        "## Observations",
        "",
        _text(report.observations),
        "",
        "## Areas for improvement",
        "",
        _text(report.improvements),
        "",
    ]
    return "\n".join(lines)


def report_filename(report: DrillReport) -> str:
    return f"drill-{report.run_id}-report.md"
