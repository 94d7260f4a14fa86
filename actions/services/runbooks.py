"""Writing runbooks: a runbook and its steps are saved as a whole, and every save keeps the result as
a numbered RunbookVersion with its author and time, so an edit never loses the text it replaced.

A step may name an action and map the action's parameters to templates over the incident and its
alerts (`{"host": "{{ alert.labels.instance }}"}`), the same mapping an alert rule's automated
response uses. The mapping only ever fills parameter values: the run form shows them, the action's
patterns check them and actions.templating quotes them into the commands."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from actions.models import Action, Runbook, RunbookStep, RunbookVersion
from actions.parameter_mappings import mapping_problems
from common.actor import Actor
from incidents.models import Service

MAX_STEPS = 100


def _step_problems(position: int, spec: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    key = f"steps.{position}"
    if not str(spec.get("text") or "").strip():
        errors[f"{key}.text"] = ["Describe the step."]
    action: Action | None = spec.get("action")
    mapping = spec.get("parameters") or {}
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        errors[f"{key}.parameters"] = [
            'Map each parameter name to a text, e.g. {"host": "{{ alert.labels.instance }}"}.'
        ]
        return errors
    if mapping and action is None:
        errors[f"{key}.parameters"] = ["Parameters need an action to fill."]
        return errors
    problems = mapping_problems(action=action, mapping=mapping) if action is not None else []
    if problems:
        errors[f"{key}.parameters"] = problems
    return errors


def _validate(*, title: str, steps: list[dict[str, Any]]) -> None:
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["Give the runbook a title."]
    elif len(title) > Runbook._meta.get_field("title").max_length:
        errors["title"] = ["At most 200 characters."]
    if len(steps) > MAX_STEPS:
        errors["steps"] = [f"At most {MAX_STEPS} steps."]
    for position, spec in enumerate(steps, start=1):
        errors.update(_step_problems(position, spec))
    if errors:
        raise ValidationError(errors)


def _write(
    *,
    by: Actor,
    runbook: Runbook,
    title: str,
    service: Service | None,
    summary: str,
    steps: list[dict[str, Any]],
) -> Runbook:
    runbook.title = title.strip()
    runbook.service = service
    runbook.summary = summary or ""
    runbook.updated_by = by.user
    runbook.save()
    runbook.steps.all().delete()
    rows = RunbookStep.objects.bulk_create(
        RunbookStep(
            runbook=runbook,
            position=position,
            text=str(spec["text"]).strip(),
            action=spec.get("action"),
            parameters=spec.get("parameters") or {},
        )
        for position, spec in enumerate(steps, start=1)
    )
    RunbookVersion.objects.create(
        runbook=runbook,
        number=runbook.version,
        title=runbook.title,
        summary=runbook.summary,
        steps=[
            {
                "position": row.position,
                "text": row.text,
                "action": row.action_id,
                "action_name": row.action.name if row.action else "",
                "parameters": row.parameters,
            }
            for row in rows
        ],
        author=by.user,
        author_name=str(by),
    )
    return runbook


def runbook_create(
    *,
    by: Actor,
    title: str,
    service: Service | None = None,
    summary: str = "",
    steps: list[dict[str, Any]] = (),
) -> Runbook:
    """`steps`: in order, each {"text", "action" (an Action or None), "parameters" (a mapping)}."""
    by.require("actions.add_runbook", "write runbooks")
    steps = list(steps)
    _validate(title=title or "", steps=steps)
    with transaction.atomic():
        return _write(
            by=by, runbook=Runbook(version=1), title=title, service=service, summary=summary, steps=steps
        )


def runbook_update(
    *,
    by: Actor,
    runbook: Runbook,
    title: str,
    service: Service | None = None,
    summary: str = "",
    steps: list[dict[str, Any]] = (),
) -> Runbook:
    """Replace the runbook's text and steps; the previous versions stay as they were."""
    by.require("actions.change_runbook", "edit runbooks")
    steps = list(steps)
    _validate(title=title or "", steps=steps)
    with transaction.atomic():
        locked = Runbook.objects.select_for_update().get(pk=runbook.pk)
        locked.version += 1
        return _write(by=by, runbook=locked, title=title, service=service, summary=summary, steps=steps)


def runbook_delete(*, by: Actor, runbook: Runbook) -> None:
    by.require("actions.delete_runbook", "delete runbooks")
    runbook.delete()
