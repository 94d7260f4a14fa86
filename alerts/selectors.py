"""Reads for alert rules and silences: which rules an alert matches (and why), and whether a silence
covers it. No side effects, so the rule tester can call them too."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.matching import labels_match
from alerts.models import AlertRule, Silence


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
