"""Reads for alert rules and silences: which rules an alert matches (and why), whether a silence
covers it, and the whole plan for an alert. No side effects, so the rule tester can call them too."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.choices import IncidentPolicy
from alerts.matching import group_key, labels_match, priority_code_for
from alerts.models import Alert, AlertRule, AutomatedResponse, Silence
from incidents.choices import OPEN_STATUSES
from incidents.models import Incident, Service


@dataclass(frozen=True)
class RuleMatch:
    """A rule an alert matched, with one line per check saying why."""

    rule: AlertRule
    reasons: list[str] = field(default_factory=list)


def _rule_match(rule: AlertRule, alert_name: str, severity: str, labels: Mapping[str, Any]):
    reasons: list[str] = []
    ok = True
    if rule.alert_name:
        hit = rule.alert_name == alert_name
        ok = ok and hit
        reasons.append(f"alert name is {rule.alert_name}: {'yes' if hit else 'no'}")
    if rule.severity:
        hit = rule.severity == severity
        ok = ok and hit
        reasons.append(f"severity is {rule.severity}: {'yes' if hit else 'no'}")
    matched, why = labels_match(rule.matchers, labels)
    return ok and matched, reasons + why


def rules_matching(*, alert_name: str, severity: str, labels: Mapping[str, Any]) -> list[RuleMatch]:
    """The enabled rules this alert matches, in rule order: the first match ends the walk unless
    that rule says `continue_matching`."""
    matches: list[RuleMatch] = []
    rules = (
        AlertRule.objects.filter(enabled=True).select_related("service", "priority").order_by("order", "id")
    )
    for rule in rules:
        ok, reasons = _rule_match(rule, alert_name, severity, labels)
        if not ok:
            continue
        matches.append(RuleMatch(rule=rule, reasons=reasons))
        if not rule.continue_matching:
            break
    return matches


def silence_active(*, labels: Mapping[str, Any], at: datetime) -> Silence | None:
    """A silence active at `at` (starts_at <= at < ends_at) whose matchers all hold for these labels,
    the earliest-created first; None if nothing silences them. A silence without matchers never
    silences anything."""
    candidates = Silence.objects.filter(starts_at__lte=at, ends_at__gt=at).order_by("created_at", "id")
    for silence in candidates:
        if not silence.matchers:
            continue
        ok, _ = labels_match(silence.matchers, labels)
        if ok:
            return silence
    return None


@dataclass
class AlertPlan:
    """What processing would do with a firing alert, worked out without writing anything: the rule
    tester shows it, the processing service carries it out."""

    silence: Silence | None
    matches: list[RuleMatch]
    # The first matched rule whose policy opens or joins incidents; it decides the incident.
    rule: AlertRule | None
    service: Service | None
    priority_code: str
    policy: str
    group_key: str
    responses: list[AutomatedResponse]

    def matches_record(self) -> list[dict[str, Any]]:
        return [{"rule": m.rule.pk, "name": m.rule.name, "reasons": m.reasons} for m in self.matches]


def alert_plan(
    *, alert_name: str, severity: str, labels: Mapping[str, Any], at: datetime, service: Service | None
) -> AlertPlan:
    """The silence, rule matches, service, priority, incident policy and responses for an alert
    with these fields, received at `at`, whose source's default service is `service`."""
    silence = silence_active(labels=labels, at=at)
    matches = [] if silence else rules_matching(alert_name=alert_name, severity=severity, labels=labels)
    primary = next((m.rule for m in matches if m.rule.incident_policy != IncidentPolicy.NONE), None)
    for match in matches:
        if match.rule.service is not None:
            service = match.rule.service
            break
    priority_code = priority_code_for(severity)
    if primary is not None and primary.priority is not None:
        priority_code = primary.priority.code
    responses: list[AutomatedResponse] = []
    if matches:
        by_rule: dict[int, list[AutomatedResponse]] = {}
        for response in (
            AutomatedResponse.objects.filter(rule__in=[m.rule for m in matches], enabled=True)
            .select_related("action")
            .order_by("order", "id")
        ):
            by_rule.setdefault(response.rule_id, []).append(response)
        responses = [r for m in matches for r in by_rule.get(m.rule.pk, [])]
    return AlertPlan(
        silence=silence,
        matches=matches,
        rule=primary,
        service=service,
        priority_code=priority_code,
        policy=primary.incident_policy if primary else IncidentPolicy.NONE,
        group_key=group_key(primary.group_by, labels) if primary else "",
        responses=responses,
    )


def incident_open_for_group(*, rule: AlertRule, key: str) -> Incident | None:
    """The most recently detected open incident an alert of this rule and group key joined."""
    alert = (
        Alert.objects.filter(rule=rule, group_key=key, incident__status__in=OPEN_STATUSES)
        .select_related("incident")
        .order_by("-incident__detected_at", "-incident_id")
        .first()
    )
    return alert.incident if alert else None
