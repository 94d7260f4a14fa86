"""What an incident opened from an alert starts with: the title, description, priority and services
the alert and its matching rule give. Processing opens incidents with exactly these; the "create
incident from alert" form shows them for a person to change before creating. Reads only."""

from dataclasses import dataclass

from alerts.models import Alert, AlertRule
from alerts.selectors import AlertPlan, alert_plan
from incidents.models import Incident, Priority, Service

TITLE_LENGTH = Incident._meta.get_field("title").max_length
# Shown on their own in the description; the other annotations follow as "- name: value" lines.
DESCRIPTION_ANNOTATIONS = ("description", "message")
TITLE_ANNOTATIONS = ("summary", "title")


@dataclass(frozen=True)
class IncidentPrefill:
    title: str
    description: str
    priority: Priority
    services: list[Service]
    rule: AlertRule | None
    # Where the priority came from, for the form: "rule Checkout errors" or "severity critical".
    priority_source: str


def incident_title_for(alert: Alert) -> str:
    summary = " ".join(str(alert.annotations.get("summary") or alert.annotations.get("title") or "").split())
    name = alert.name or alert.fingerprint
    title = f"{name}: {summary}" if summary and summary != name else name
    return title[:TITLE_LENGTH]


def incident_description_for(alert: Alert) -> str:
    lines = []
    description = str(alert.annotations.get("description") or alert.annotations.get("message") or "").strip()
    if description:
        lines += [description, ""]
    lines.append(f"Alert from {alert.source.name}, first received {alert.received_at:%Y-%m-%d %H:%M:%S %Z}.")
    lines += [f"- {key}: {value}" for key, value in sorted(alert.labels.items())]
    others = sorted(
        (key, value)
        for key, value in alert.annotations.items()
        if key not in DESCRIPTION_ANNOTATIONS + TITLE_ANNOTATIONS
    )
    if others:
        lines += ["", "Annotations:"] + [f"- {key}: {value}" for key, value in others]
    if alert.generator_url:
        lines.append(f"Source: {alert.generator_url}")
    return "\n".join(lines)


def priority_for(code: str) -> Priority:
    """The priority of that code, or the least urgent one when it is missing from the catalog."""
    return Priority.objects.filter(code=code).first() or Priority.objects.order_by("-code")[0]


def alert_plan_for(alert: Alert) -> AlertPlan:
    return alert_plan(
        alert_name=alert.name,
        severity=alert.severity,
        labels=alert.labels,
        at=alert.received_at,
        service=alert.service,
    )


def alert_incident_prefill(
    *, alert: Alert, plan: AlertPlan | None = None, priorities: dict[str, Priority] | None = None
) -> IncidentPrefill:
    """The incident this alert would open: priority from the matching rule, else from the
    severity (alerts.matching.SEVERITY_PRIORITY); services from the rule, else the source's.
    `priorities` (by code) spares a batch one query per alert."""
    plan = plan or alert_plan_for(alert)
    priority = (priorities or {}).get(plan.priority_code) or priority_for(plan.priority_code)
    rule_priority = plan.rule is not None and plan.rule.priority_id is not None
    severity = alert.severity or "unset"
    return IncidentPrefill(
        title=incident_title_for(alert),
        description=incident_description_for(alert),
        priority=priority,
        services=[plan.service] if plan.service else [],
        rule=plan.rule,
        priority_source=f"rule {plan.rule.name}" if rule_priority else f"severity {severity}",
    )
