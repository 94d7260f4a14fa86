"""`manage.py check --database default` (and every `migrate`) lists the stored steps whose command
places a placeholder where quoting does not hold. Such steps were saved before the rule existed:
they cannot run (the executor refuses them), and the warning says which to fix and how."""

from typing import Any

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError

from actions.placement import PLACEHOLDER, placement_problems


@register(Tags.database)
def unsafe_step_commands(app_configs: Any = None, databases: list[str] | None = None, **kwargs: Any) -> list:
    if not databases:
        return []
    from actions.models import ActionStep

    warnings = []
    for database in databases:
        try:
            steps = list(
                ActionStep.objects.using(database)
                .filter(command__contains="{{")
                .select_related("action")
                .order_by("action__name", "order", "id")
            )
        except DatabaseError:
            continue  # Not migrated yet: nothing stored to check.
        for step in steps:
            if not PLACEHOLDER.search(step.command):
                continue
            problems = placement_problems(step.command)
            if problems:
                warnings.append(
                    Warning(
                        f"Action {step.action.name!r}, step {step.order} ({step.name}): "
                        + " ".join(str(p) for p in problems),
                        hint="Edit the step: until then every run of it fails with this error.",
                        obj=step,
                        id="actions.W001",
                    )
                )
    return warnings
