"""Turning a shipped template (actions.template_library) into an action of one's own."""

from django.core.exceptions import ValidationError
from django.db import transaction

from actions.choices import TargetKind
from actions.models import Action, Provider, ProviderGroup
from actions.services.catalog import action_save
from actions.template_library import Template, template_get
from common.actor import Actor


def _step_specs(template: Template, target: Provider | ProviderGroup | None) -> list[dict]:
    specs = []
    for spec in template.steps:
        step = {k: v for k, v in spec.items() if k not in ("target", "target_parameter")}
        if spec.get("target") == TargetKind.TRIGGER:
            step.update(target_kind=TargetKind.TRIGGER, target_parameter=spec["target_parameter"])
        elif isinstance(target, ProviderGroup):
            step.update(target_kind=TargetKind.GROUP, provider_group=target)
        else:
            step.update(target_kind=TargetKind.PROVIDER, provider=target)
        specs.append(step)
    return specs


def action_create_from_template(
    *, by: Actor, template_key: str, name: str | None = None, target: Provider | ProviderGroup | None
) -> Action:
    """Clone a template into a new action whose steps run on `target` (steps that target the host
    named by a parameter keep doing so). Validated and written by action_save, like any action;
    the action remembers the template it came from."""
    template = template_get(template_key)
    if template is None:
        raise ValidationError({"template_key": [f"There is no template {template_key!r}."]})
    needs_target = any(s.get("target") != TargetKind.TRIGGER for s in template.steps)
    if target is None and needs_target:
        raise ValidationError({"target": ["Choose the provider or provider group the steps run on."]})
    data = {
        "name": (name or "").strip() or template.name,
        "description": template.description,
        "category": template.category,
        "tags": list(template.tags),
        "estimated_duration": template.estimated_duration,
        "risk": template.risk,
        "parameters": [dict(p) for p in template.parameters],
    }
    with transaction.atomic():
        action = action_save(by=by, data=data, steps=_step_specs(template, target))
        action.template_key = template.key
        action.save(update_fields=["template_key", "updated_at"])
    return action
