"""Parameter mappings: an action's parameters filled from templates such as
`{"host": "{{ alert.labels.instance }}"}`. Automated responses (alerts) and runbook steps use them;
the values they render are only ever parameter values, shell-quoted by actions.templating."""

from typing import TYPE_CHECKING

from actions.templating import PLACEHOLDER, placeholders

if TYPE_CHECKING:
    from actions.models import Action

ROOTS = ("alert", "incident")


def mapping_problems(*, action: "Action", mapping: dict[str, str]) -> list[str]:
    """Parameters the action does not declare, placeholders outside alert.* / incident.*, and stray
    braces that do not form a placeholder."""
    problems = []
    declared = {p["name"] for p in action.parameters}
    for name, template in mapping.items():
        if name not in declared:
            problems.append(f"{action.name} declares no parameter '{name}'.")
        for placeholder in placeholders(template):
            root, _, rest = placeholder.partition(".")
            if root not in ROOTS or not rest:
                problems.append(f"{name}: {{{{ {placeholder} }}}} must start with alert. or incident.")
        leftover = PLACEHOLDER.sub("", template)
        if "{{" in leftover or "}}" in leftover:
            problems.append(f"{name}: a '{{{{' or '}}}}' does not form a placeholder.")
    return problems
