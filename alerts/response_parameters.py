"""Automated responses' parameter mappings: checking them when a rule is saved (alert_rule_save)
and rendering them for one alert. Values come from the alert's labels and annotations, which a
monitoring system controls (anyone holding a source's token), so they are only ever parameter
values: validated against the action's declarations and shell-quoted by actions.templating when a
command is rendered.

Defence in depth: a parameter filled from the alert must declare an allow-list pattern, and the
action's commands may not name alert.* themselves (that would skip the pattern). Both are checked
when the rule is saved and again each time an alert requests the run, since the action may have
been edited in between."""

import re
from typing import TYPE_CHECKING, Any

from actions.parameter_mappings import mapping_problems
from actions.templating import TemplateError, placeholders, render_value
from alerts.choices import ResponseTrigger

if TYPE_CHECKING:
    from alerts.models import Alert, AutomatedResponse
    from incidents.models import Incident

# A pattern that accepts one of these is not an allow-list.
PATTERN_PROBES = (
    "$(touch /tmp/x)",
    "`touch /tmp/x`",
    "x; touch /tmp/x",
    "x\ntouch /tmp/x",
    "' || touch /tmp/x",
)


def response_problems(response: "AutomatedResponse") -> dict[str, list[str]]:
    """Field errors for a response: unknown parameters, placeholders outside alert.* / incident.*,
    a delay without the delayed trigger or the other way round."""
    errors: dict[str, list[str]] = {}
    mapping = response.parameters
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        errors["parameters"] = [
            'Map each parameter name to a text template, e.g. {"host": "{{ alert.labels.instance }}"}.'
        ]
    elif response.action_id is not None:
        problems = mapping_problems(action=response.action, mapping=mapping)
        problems += _pattern_problems(response)
        if problems:
            errors["parameters"] = problems
    if response.trigger == ResponseTrigger.AFTER_DELAY and not response.delay_seconds:
        errors["delay_seconds"] = ["A delayed response needs a delay in seconds."]
    elif response.trigger != ResponseTrigger.AFTER_DELAY and response.delay_seconds:
        errors["delay_seconds"] = ["Only the after_delay trigger waits; set the delay to 0."]
    return errors


def _pattern_problems(response: "AutomatedResponse") -> list[str]:
    """Each parameter filled from the alert needs a pattern that refuses shell syntax, and no step
    may name alert.* directly."""
    action = response.action
    declared = {p["name"]: p for p in action.parameters}
    problems = []
    for name, template in response.parameters.items():
        if name not in declared or not placeholders(template):
            continue  # A fixed value is the rule author's, not the alert's.
        pattern = declared[name].get("pattern") or ""
        if not pattern:
            problems.append(
                f"{action.name}'s parameter '{name}' is filled from the alert, so it must declare a pattern "
                "(an allow-list such as ^[A-Za-z0-9._:-]+$): add one to the action first."
            )
            continue
        accepted = next((p for p in PATTERN_PROBES if _matches(pattern, p)), None)
        if accepted is not None:
            problems.append(
                f"{action.name}'s parameter '{name}' is filled from the alert, but its pattern {pattern} "
                f"accepts {accepted!r}: make it an allow-list such as ^[A-Za-z0-9._:-]+$."
            )
    for step in action.steps.all():
        named = sorted({f"{{{{ {p} }}}}" for p in placeholders(step.command) if p.startswith("alert.")})
        if named:
            problems.append(
                f"{action.name}'s step '{step.name}' names {', '.join(named)} in its command: map the value "
                "to a parameter with a pattern here and use {{ params.<name> }} there."
            )
    return problems


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False  # The action's own check reports a pattern that does not compile.


def alert_context(alert: "Alert", incident: "Incident | None" = None) -> dict[str, Any]:
    """What `{{ alert.* }}` and `{{ incident.* }}` can name in a parameter mapping."""
    context: dict[str, Any] = {
        "alert": {
            "id": alert.pk,
            "name": alert.name,
            "status": alert.status,
            "severity": alert.severity,
            "fingerprint": alert.fingerprint,
            "source": alert.source.slug,
            "starts_at": alert.starts_at.isoformat(),
            "generator_url": alert.generator_url,
            "labels": {k: str(v) for k, v in alert.labels.items()},
            "annotations": {k: str(v) for k, v in alert.annotations.items()},
        }
    }
    if incident is not None:
        context["incident"] = {"id": incident.pk, "reference": incident.reference, "title": incident.title}
    return context


def response_parameters(response: "AutomatedResponse", context: dict[str, Any]) -> dict[str, str]:
    """The run's parameters for this alert; a placeholder naming an absent label raises TemplateError."""
    return {name: render_value(template, context) for name, template in response.parameters.items()}


__all__ = ["TemplateError", "alert_context", "response_parameters", "response_problems"]
