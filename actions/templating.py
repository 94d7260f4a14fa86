"""The one way values reach a command: `{{ params.service }}`, `{{ incident.reference }}`, each
value shell-quoted with shlex.quote. There is no syntax for an unquoted substitution in a command,
and a placeholder may only stand as a whole, unquoted shell word (actions.placement): inside other
quotes, a substitution or a command that re-parses its arguments the quoting would be undone.

`render_value` fills the same placeholders without quoting to produce a parameter *value* (an
automated response maps `host` <- `{{ alert.labels.instance }}`); that value is then checked
against the parameter's declaration and quoted like any other when it reaches a command."""

import shlex
from collections.abc import Mapping
from typing import Any

from actions.placement import PLACEHOLDER, placement_problems

ROOTS = ("params", "incident", "alert")


class TemplateError(ValueError):
    """A placeholder that names nothing in the context."""


def placeholders(template: str) -> list[str]:
    """The dotted names a command refers to, in order."""
    return PLACEHOLDER.findall(template)


def _lookup(context: Mapping[str, Any], dotted: str) -> Any:
    value: Any = context
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise TemplateError(f"{{{{ {dotted} }}}} names nothing: no '{part}' here.")
        value = value[part]
    if value is None or isinstance(value, Mapping | list):
        raise TemplateError(f"{{{{ {dotted} }}}} is not a single value.")
    return value


def render_command(template: str, context: Mapping[str, Any]) -> str:
    """Substitute every placeholder with its shell-quoted value."""
    return PLACEHOLDER.sub(lambda m: shlex.quote(str(_lookup(context, m.group(1)))), template)


def render_value(template: str, context: Mapping[str, Any]) -> str:
    """Substitute every placeholder with its plain value, for a parameter value, never a command."""
    return PLACEHOLDER.sub(lambda m: str(_lookup(context, m.group(1))), template)


def template_problems(template: str, parameter_names: list[str]) -> list[str]:
    """Checks an action's command when it is saved: placeholders must name a declared parameter or
    a known root (incident.*, alert.*), each standing as a whole, unquoted shell word."""
    problems = []
    for name in placeholders(template):
        root, _, rest = name.partition(".")
        if root not in ROOTS or not rest:
            problems.append(f"{{{{ {name} }}}}: use params.<name>, incident.<field> or alert.<field>.")
        elif root == "params" and rest not in parameter_names:
            problems.append(f"{{{{ {name} }}}}: no parameter named '{rest}' is declared.")
    leftover = PLACEHOLDER.sub("", template)
    if "{{" in leftover or "}}" in leftover:
        problems.append("A '{{' or '}}' does not form a placeholder like {{ params.name }}.")
    problems += [str(problem) for problem in placement_problems(template)]
    return problems
