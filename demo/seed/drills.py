"""The demo's drills: the standard scenario library, a drill source with its rule, and one completed
drill with its report (nine days ago: a synthetic connection-pool alert through the drill source,
acknowledged, worked and resolved by alice, then written up).

Written through the services under a scripted clock, like the demo incidents. Safe to run again:
scenarios, the source and the rule are looked up by name, and the drill is told only while there is
no drill on record, and only with the demo incidents (never into a database with incidents of its own)."""

import contextlib
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from actions.models import Action
from actions.services import action_run_request
from alerts.choices import SourceKind
from alerts.models import AlertRule, AlertSource
from alerts.services import alert_rule_save, alert_source_create
from alerts.services.processing import alerts_process
from common.actor import Actor, Source
from demo.seed.catalog import web_url
from demo.seed.story import scripted_clock
from drills.choices import StartMode
from drills.models import DrillReport, DrillRun, DrillScenario
from drills.services import (
    drill_report_update,
    drill_run_start,
    drill_runs_end_for_incident,
    drill_scenario_save,
    drill_scenarios_seed_standard,
)
from drills.services.scenarios import STANDARD
from incidents.models import Incident, Priority, Service
from incidents.services import incident_acknowledge, incident_resolve

DRILL_SOURCE = {"name": "Drills", "slug": "drills", "kind": SourceKind.ALERTMANAGER}
DRILL_RULE = "Drill: connection pool exhausted"
DRILL_ALERT = "PgPoolExhausted"
SCENARIO = STANDARD[0]["name"]  # Database connection exhaustion


def _source_and_rule(system: Actor, services: dict[str, Service]) -> AlertSource:
    source = AlertSource.objects.filter(slug=DRILL_SOURCE["slug"]).first()
    if source is None:
        source, _token = alert_source_create(
            by=system,
            name=DRILL_SOURCE["name"],
            slug=DRILL_SOURCE["slug"],
            kind=DRILL_SOURCE["kind"],
            is_drill=True,
        )
    if not AlertRule.objects.filter(name=DRILL_RULE).exists():
        alert_rule_save(
            by=system,
            data={
                "name": DRILL_RULE,
                "description": "Demo: the connection-exhaustion drill's synthetic alert opens a P3 drill.",
                "matchers": [{"label": "alertname", "op": "eq", "value": DRILL_ALERT}],
                "service": services["postgres-primary"],
                # P3: below the priorities that need a post-mortem, which a drill does not.
                "priority": Priority.objects.filter(code="P3").first(),
            },
        )
    return source


def _scenario(system: Actor, source: AlertSource) -> DrillScenario:
    drill_scenarios_seed_standard(by=system)
    scenario = DrillScenario.objects.get(name=SCENARIO)
    if scenario.start_mode != StartMode.SYNTHETIC_ALERT:
        scenario = drill_scenario_save(
            by=system,
            scenario=scenario,
            data={
                "start_mode": StartMode.SYNTHETIC_ALERT,
                "source": source,
                "alert_labels": {"alertname": DRILL_ALERT, "severity": "warning", "instance": "db-1:5432"},
                "alert_annotations": {"summary": "Connection pool exhausted on db-1 (drill)"},
            },
        )
    return scenario


def _completed_drill(scenario: DrillScenario, users: dict[str, Any]) -> DrillRun:
    alice = Actor(user=users["alice"], source=Source.ADMIN)
    t0 = (timezone.now() - timedelta(days=9)).replace(hour=10, minute=0, second=0, microsecond=0)

    def at(minutes: int):
        return scripted_clock(t0 + timedelta(minutes=minutes))

    with at(0):
        run = drill_run_start(scenario=scenario, by=alice, participants=[users["alice"], users["bob"]])
        alerts_process(alert_ids=[run.alert_id])  # What the worker does with the alert at once.
    incident = Incident.objects.get(alerts__pk=run.alert_id)
    with at(4):
        incident = incident_acknowledge(incident=incident, by=alice)
    health_check = Action.objects.filter(template_key="health-check", enabled=True).first()
    if health_check is not None:  # Only where the demo has actions (ALLOW_LOCAL_PROVIDER).
        with at(9), contextlib.suppress(ValidationError):
            action_run_request(
                action=health_check,
                by=alice,
                incident=incident,
                parameters={"endpoint": f"{web_url()}/admin/login/", "max_load": "8"},
            )
    with at(31):
        incident_resolve(
            incident=incident,
            by=alice,
            summary="Idle sessions terminated; the pool recovered. Drill: nothing was really down.",
        )
    with at(32):
        drill_runs_end_for_incident(incident_id=incident.pk)  # What the worker does on resolution.
    with at(60):
        drill_report_update(
            report=DrillReport.objects.get(run=run),
            by=alice,
            data={
                "observations": "The alert reached the on-call responder within a minute. The pool was "
                "identified as the cause from pg_stat_activity in five minutes; the runbook's "
                "terminate query worked first time.",
                "score": 7,
                "improvements": "The runbook does not say which sessions are safe to terminate.\n"
                "Nobody posted an internal status update during the drill.",
            },
        )
    return DrillRun.objects.get(pk=run.pk)


def drills_ensure(*, services: dict[str, Service], users: dict[str, Any], tell: bool) -> dict[str, Any]:
    """`tell`: the demo incidents were just told (an empty database), so the drill may join them."""
    system = Actor.system(source=Source.CLI, label="seed_demo")
    source = _source_and_rule(system, services)
    scenario = _scenario(system, source)
    run = _completed_drill(scenario, users) if tell and not DrillRun.objects.exists() else None
    return {"scenarios": DrillScenario.objects.count(), "run": run}


def drills_lines(*, base: str, drills: dict[str, Any]) -> list[str]:
    lines = ["", f"  Drills: {drills['scenarios']} scenarios: {base}/admin/drills/drillscenario/"]
    if drills["run"] is not None:
        lines.append(f"  A completed drill with its report: {base}/admin/drills/drillreport/")
    return lines
