"""Pure label matching for alert rules and silences: no database, no Django models.

A matcher is a dict `{"label": str, "op": "eq" | "neq" | "regex" | "exists", "value": str}`; `value`
is ignored for `exists`. Regexes are full matches, anchored at both ends like Alertmanager's, so
`web` does not match `web-1`. A label that is absent counts as the empty string for `eq`, `neq` and
`regex`, as in Alertmanager (`neq x` holds for an absent label, `regex .*` matches it).
"""

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from alerts.choices import MatcherOp

# Alert.group_key's column. A longer key keeps its start, readable, and ends in a hash of the whole.
GROUP_KEY_LENGTH = 500
GROUP_KEY_HASH = "…sha256:"

# The alert's `severity` label -> incident priority code; anything else gets DEFAULT_PRIORITY_CODE.
SEVERITY_PRIORITY = {
    "critical": "P1",
    "high": "P2",
    "error": "P2",
    "warning": "P3",
    "info": "P4",
}
DEFAULT_PRIORITY_CODE = "P3"


def matchers_problems(matchers: Any) -> list[str]:
    """Everything wrong with a list of matchers, one message each; empty when they are valid."""
    if not isinstance(matchers, list):
        return ["Matchers must be a list."]
    problems: list[str] = []
    for i, matcher in enumerate(matchers):
        where = f"Matcher {i + 1}"
        if not isinstance(matcher, dict):
            problems.append(f"{where} must be an object with label, op and value.")
            continue
        label = matcher.get("label")
        if not isinstance(label, str) or not label.strip():
            problems.append(f"{where}: the label name must be a non-empty string.")
        op = matcher.get("op")
        if op not in MatcherOp.values:
            expected = ", ".join(MatcherOp.values)
            problems.append(f"{where}: unknown op {op!r}; expected one of {expected}.")
            continue
        if op == MatcherOp.EXISTS:
            continue
        value = matcher.get("value")
        if not isinstance(value, str) or value == "":
            problems.append(f"{where}: op {op!r} needs a non-empty string value.")
            continue
        if op == MatcherOp.REGEX:
            try:
                re.compile(value)
            except re.error as exc:
                problems.append(f"{where}: invalid regex {value!r}: {exc}.")
    return problems


def _describe(matcher: Mapping[str, Any]) -> str:
    if matcher["op"] == MatcherOp.EXISTS:
        return f"{matcher['label']} exists"
    return f"{matcher['label']} {matcher['op']} {matcher['value']}"


def _matches(matcher: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    op = matcher["op"]
    name = matcher["label"]
    if op == MatcherOp.EXISTS:
        return name in labels
    actual = str(labels.get(name, ""))
    if op == MatcherOp.EQ:
        return actual == matcher["value"]
    if op == MatcherOp.NEQ:
        return actual != matcher["value"]
    if op == MatcherOp.REGEX:
        return re.fullmatch(matcher["value"], actual) is not None
    raise ValueError(f"Unknown matcher op {op!r}.")


def labels_match(matchers: list[dict], labels: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Whether every matcher holds for these labels (no matchers: always), with one line per matcher
    saying how it went, e.g. "severity eq critical: yes". Every matcher is evaluated, so the
    explanation is complete even after a miss. Matchers must be valid (see `matchers_problems`)."""
    reasons: list[str] = []
    ok = True
    for matcher in matchers:
        hit = _matches(matcher, labels)
        ok = ok and hit
        reasons.append(f"{_describe(matcher)}: {'yes' if hit else 'no'}")
    return ok, reasons


def priority_code_for(severity: str | None) -> str:
    """The priority code an alert's severity maps to (case and surrounding spaces ignored)."""
    return SEVERITY_PRIORITY.get((severity or "").strip().lower(), DEFAULT_PRIORITY_CODE)


def group_key(group_by: list[str], labels: Mapping[str, Any]) -> str:
    """A stable key for the alerts that belong together: the grouping labels sorted by name, with
    their values (absent labels as empty), e.g. `alertname="Down",service="web"`. The order of
    `group_by` and of `labels` does not change it; duplicates in `group_by` count once. Keys longer
    than the column are shortened the same way every time, with a hash of the whole key."""
    parts = [f"{name}={json.dumps(str(labels.get(name, '')))}" for name in sorted(set(group_by))]
    key = ",".join(parts)
    if len(key) <= GROUP_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key[: GROUP_KEY_LENGTH - len(GROUP_KEY_HASH) - len(digest)] + GROUP_KEY_HASH + digest
