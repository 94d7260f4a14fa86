"""The demo's runbooks and state captures: a runbook per demo service (steps linked to the demo's
actions), one for the demo alert rule, every service captured by Health check, and the captures of
the demo's alert-opened incidents requested at their opening (the worker of `make run` runs them on
the local provider; Health check answers once the web server is up)."""

from typing import Any

from actions.models import Action, ActionRun, Runbook, ServiceCapture
from actions.services.capture import incident_captures_request, service_capture_save
from actions.services.runbooks import runbook_create
from alerts.models import AlertRule
from alerts.services import alert_rule_save
from common.actor import Actor, Source
from incidents.models import Incident, Service

ALERT_ORIGINS = ("alertmanager", "grafana")
HEALTH = "health-check"
LOGS = "log-collection"
RESTART = "service-restart"

# Per service: what to look at first, in Markdown, then the demo's actions.
FIRST_LOOK = {
    "web": "Open the **storefront dashboard**: error rate, p95 latency and upstream status per pool.",
    "postgres-primary": "Check replication lag and `pg_stat_activity`; is the primary writable?",
    "auth-sso": "Try a sign-in with the test account; check the identity providers' status pages.",
    "object-storage": "Check free space and replication backlog per node; are uploads failing?",
    "edge-network": "Check the load balancers' health checks and the CDN's error rate per region.",
    "payments-api": "Check both acquirers' status and the payment success rate per method.",
    "search": "Check index freshness and query latency; fall back to category browsing if needed.",
}
RULE_RUNBOOK = "Storefront instance down or slow"


def _steps(service: Service, actions: dict[str, Action]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{"text": FIRST_LOOK.get(service.slug, "Check the service's dashboard.")}]
    if HEALTH in actions:
        steps.append(
            {
                "text": "Capture the host's **health**: load, disk, memory, endpoint.",
                "action": actions[HEALTH],
            }
        )
    if LOGS in actions:
        steps.append(
            {"text": "Collect the recent logs into one archive for the timeline.", "action": actions[LOGS]}
        )
    if RESTART in actions:
        steps.append(
            {
                "text": "If the unit failed, **restart** it and check it answers.\n\n"
                "_Disabled in the demo: point it at a real host first._",
                "action": actions[RESTART],
                "parameters": {"service": "{{ alert.labels.job }}"},
            }
        )
    steps.append({"text": "Post a status update with what you found, then decide: fix, hold or escalate."})
    return steps


def runbooks_ensure(*, services: dict[str, Service], rule: AlertRule | None) -> int:
    """A runbook per demo service and one for the demo rule, each written once."""
    system = Actor.system(source=Source.CLI, label="seed_demo")
    actions = {a.template_key: a for a in Action.objects.filter(template_key__in=(HEALTH, LOGS, RESTART))}
    created = 0
    for service in services.values():
        if Runbook.objects.filter(service=service).exists():
            continue
        runbook_create(
            by=system,
            title=f"{service.name}: first response",
            service=service,
            summary=f"Owned by {service.owner_team}. Work top to bottom; note what you find on the timeline.",
            steps=_steps(service, actions),
        )
        created += 1
    if rule is not None and rule.runbook_id is None:
        steps: list[dict[str, Any]] = [{"text": "Which instance? See the alert's `instance` label."}]
        if HEALTH in actions:
            steps.append(
                {
                    "text": "Check the instance that alerted answers.",
                    "action": actions[HEALTH],
                    "parameters": {"endpoint": "http://{{ alert.labels.instance }}/admin/login/"},
                }
            )
        runbook = runbook_create(by=system, title=RULE_RUNBOOK, steps=steps)
        alert_rule_save(by=system, rule=rule, data={"runbook": runbook})
        created += 1
    return created


def captures_ensure(*, services: dict[str, Service]) -> int:
    """Health check captures every demo service's state; none without it (local providers off)."""
    health = Action.objects.filter(template_key=HEALTH, enabled=True).first()
    if health is None:
        return 0
    system = Actor.system(source=Source.CLI, label="seed_demo")
    created = 0
    for service in services.values():
        if not ServiceCapture.objects.filter(service=service).exists():
            service_capture_save(by=system, service=service, action=health)
            created += 1
    return created


def snapshots_request(*, incident: Incident, by: Actor) -> int:
    """An incident the demo's monitoring opened captures its services' state right away (Story calls
    this at the opening's scripted time, so the runs and their timeline events fall in order)."""
    if by.label not in ALERT_ORIGINS:
        return 0
    return len(incident_captures_request(incident_id=incident.pk))


def snapshots_count() -> int:
    return ActionRun.objects.filter(capture_service__isnull=False).count()
