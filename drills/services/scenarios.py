"""The scenario library: saving scenarios, and the five standard ones every team starts from."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from common.actor import Actor
from common.exceptions import ConflictError
from drills.choices import ScenarioKind, StartMode
from drills.models import DrillScenario
from incidents.models import Priority

SCENARIO_FIELDS = (
    "name",
    "kind",
    "description",
    "simulated",
    "expected_response",
    "start_mode",
    "source",
    "alert_labels",
    "alert_annotations",
    "priority",
    "injection_action",
    "injection_parameters",
    "cleanup_action",
    "cleanup_parameters",
    "enabled",
)


def drill_scenario_save(
    *, by: Actor, scenario: DrillScenario | None = None, data: dict[str, Any], services: list | None = None
) -> DrillScenario:
    """Create a scenario (scenario=None) or change the fields `data` names; `services` replaces the
    incident's services for the direct mode when given."""
    creating = scenario is None
    by.require(
        "drills.add_drillscenario" if creating else "drills.change_drillscenario", "manage drill scenarios"
    )
    scenario = scenario or DrillScenario()
    for field, value in data.items():
        if field not in SCENARIO_FIELDS:
            raise ValidationError({field: ["Not a drill scenario field."]})
        setattr(scenario, field, value)
    scenario.full_clean()
    with transaction.atomic():
        scenario.save()
        if services is not None:
            scenario.services.set(services)
    return scenario


def drill_scenario_delete(*, by: Actor, scenario: DrillScenario) -> None:
    """Delete a scenario that never ran; one with drills on record is kept (disable it instead)."""
    by.require("drills.delete_drillscenario", "delete drill scenarios")
    if scenario.runs.exists():
        raise ConflictError(f"{scenario.name!r} has drills on record; disable it instead.")
    with transaction.atomic():
        scenario.delete()


STANDARD: list[dict[str, str]] = [
    {
        "name": "Database connection exhaustion",
        "kind": ScenarioKind.DATABASE_CONNECTIONS,
        "description": "The primary database refuses new connections: every pool slot is held by "
        "long-running sessions, and the application starts failing requests.",
        "simulated": "Hundreds of idle-in-transaction sessions (SELECT pg_sleep) fill max_connections "
        "on the primary.",
        "expected_response": "Acknowledge within the P2 target; confirm from pg_stat_activity that "
        "connections are exhausted; find the sessions' origin; terminate them (or restart the pool) "
        "with the runbook's action; post an internal status update; resolve once error rates recover.",
    },
    {
        "name": "Network latency spike",
        "kind": ScenarioKind.NETWORK_LATENCY,
        "description": "Requests between the web tier and its backends slow down by half a second; "
        "timeouts and retries pile up.",
        "simulated": "500 ms of added delay on one host's interface (tc qdisc netem).",
        "expected_response": "Spot the latency in the dashboards rather than blaming the application; "
        "locate the affected host or link; drain or fail it over; communicate the degradation on the "
        "status page if customers notice.",
    },
    {
        "name": "Suspicious login activity",
        "kind": ScenarioKind.SECURITY_EVENT,
        "description": "A burst of failed and then successful logins for a service account from an "
        "unknown address.",
        "simulated": "Authentication log entries and an alert as the intrusion detection would raise.",
        "expected_response": "Treat as a security incident: involve the security lead, preserve logs "
        "before changing anything, rotate the account's credentials, block the address, and keep "
        "communication on a need-to-know channel.",
    },
    {
        "name": "Disk full on a data volume",
        "kind": ScenarioKind.DISK_FULL,
        "description": "A data volume reaches 100%: writes fail and the service degrades.",
        "simulated": "A large placeholder file fills the volume on a test host (removed by cleanup).",
        "expected_response": "Find what grew (du, log rotation, backups); free space safely; confirm "
        "writes succeed; add or tune the disk alert so it fires earlier next time.",
    },
    {
        "name": "Memory pressure",
        "kind": ScenarioKind.MEMORY_PRESSURE,
        "description": "A service's memory grows until the kernel starts killing processes.",
        "simulated": "A process allocating memory steadily on a test host (stopped by cleanup).",
        "expected_response": "Recognise the OOM kills in the logs; identify the process; restart it "
        "or shed load; capture a heap profile for the post-mortem before it is gone.",
    },
]


def drill_scenarios_seed_standard(*, by: Actor) -> list[DrillScenario]:
    """Create the standard scenarios that do not exist yet (by name), opened directly as P3 drills;
    a team edits them to post through its drill source and adds injection and cleanup actions."""
    priority = Priority.objects.filter(code="P3").first() or Priority.objects.order_by("code").first()
    if priority is None:
        raise ValidationError({"priority": ["No priorities exist yet: run the migrations first."]})
    existing = set(DrillScenario.objects.values_list("name", flat=True))
    return [
        drill_scenario_save(by=by, data={**text, "start_mode": StartMode.DIRECT, "priority": priority})
        for text in STANDARD
        if text["name"] not in existing
    ]
