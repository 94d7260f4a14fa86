"""Writes to the action catalog: providers (secrets write-only), provider groups, actions with
their ordered steps. Each validates the whole object before anything is saved."""

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from actions.choices import AuthMethod, ProviderKind, TargetKind
from actions.models import Action, ActionStep, Provider, ProviderGroup
from actions.parameters import declarations_problems
from actions.runners import parse_host_key
from actions.runners.base import RunnerError
from actions.runners.hostkeys import host_key_text
from actions.runners.ssh import load_private_key
from actions.templating import template_problems
from common.actor import Actor
from common.exceptions import ConflictError

SECRET_FIELDS = ("private_key", "passphrase", "password")
PROVIDER_FIELDS = (
    "name",
    "kind",
    "address",
    "port",
    "username",
    "auth_method",
    "use_sudo",
    "connect_timeout",
    "tags",
    "enabled",
    *SECRET_FIELDS,
)
STEP_FIELDS = (
    "name",
    "target_kind",
    "provider",
    "provider_group",
    "target_parameter",
    "command",
    "timeout_seconds",
    "retries",
    "retry_delay_seconds",
    "condition",
    "failure_policy",
)
ACTION_FIELDS = (
    "name",
    "description",
    "category",
    "tags",
    "estimated_duration",
    "risk",
    "parameters",
    "enabled",
)


def _tags(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise ValidationError({field: ["Give a list of non-empty tags."]})
    return sorted({t.strip() for t in value})


def _provider_validate(provider: Provider) -> None:
    errors: dict[str, list[str]] = {}
    if provider.kind == ProviderKind.LOCAL:
        if not settings.ALLOW_LOCAL_PROVIDER:
            errors["kind"] = ["Local providers are disabled here (ALLOW_LOCAL_PROVIDER is off)."]
    else:
        for field in ("address", "username"):
            if not getattr(provider, field):
                errors[field] = ["An SSH provider needs this."]
        if provider.auth_method == AuthMethod.KEY and not provider.private_key:
            errors["private_key"] = ["Key authentication needs a private key."]
        if provider.auth_method == AuthMethod.PASSWORD and not provider.password:
            errors["password"] = ["Password authentication needs a password."]
        if provider.private_key:
            try:
                load_private_key(provider.private_key, provider.passphrase)
            except RunnerError as exc:
                errors["private_key"] = [exc.message]
    try:
        provider.full_clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def provider_save(*, by: Actor, provider: Provider | None = None, data: dict[str, Any]) -> Provider:
    """Create (provider=None) or update a provider. A secret left out of `data` is kept; an empty
    string clears it. Changing the address or port drops the pinned host key."""
    by.require("actions.add_provider" if provider is None else "actions.change_provider", "manage providers")
    unknown = set(data) - set(PROVIDER_FIELDS)
    if unknown:
        raise ValidationError({f: ["Not a provider field."] for f in sorted(unknown)})
    provider = provider or Provider()
    old_endpoint = (provider.address, provider.port) if provider.pk else None
    for field, value in data.items():
        if field == "tags":
            value = _tags(value, "tags")
        setattr(provider, field, value)
    if old_endpoint and old_endpoint != (provider.address, provider.port):
        provider.host_key = ""
    _provider_validate(provider)
    provider.save()
    return provider


def provider_host_key_pin(*, by: Actor, provider: Provider, host_key: str) -> Provider:
    """Trust on first use, deliberately: the caller fetched the key and the user confirmed its
    fingerprint. Only this function sets a host key."""
    by.require("actions.change_provider", "pin host keys")
    if provider.kind != ProviderKind.SSH:
        raise ValidationError({"host_key": ["Only SSH providers have a host key."]})
    try:
        provider.host_key = host_key_text(parse_host_key(host_key))
    except ValueError as exc:
        raise ValidationError({"host_key": [str(exc)]}) from exc
    provider.save(update_fields=["host_key", "updated_at"])
    return provider


def provider_group_save(
    *,
    by: Actor,
    group: ProviderGroup | None = None,
    data: dict[str, Any],
    providers: Iterable[Provider] | None = None,
) -> ProviderGroup:
    by.require(
        "actions.add_providergroup" if group is None else "actions.change_providergroup",
        "manage provider groups",
    )
    group = group or ProviderGroup()
    for field, value in data.items():
        if field not in ("name", "description", "tag_selector", "max_parallel"):
            raise ValidationError({field: ["Not a provider group field."]})
        setattr(group, field, _tags(value, field) if field == "tag_selector" else value)
    group.full_clean()
    with transaction.atomic():
        group.save()
        if providers is not None:
            group.providers.set(list(providers))
    return group


def _delete_unused(obj: Provider | ProviderGroup, *, users: list[str]) -> None:
    """Delete a provider or group no step uses; a used one is refused (409 in_use), naming the
    users, rather than leaving actions without a target."""
    if users:
        raise ConflictError(
            f"{obj.name} is still used by {', '.join(users)}: change those first.",
            code="in_use",
            extra={"used_by": users},
        )
    try:
        obj.delete()
    except ProtectedError as exc:  # A step was added since the check.
        raise ConflictError(f"{obj.name} is now used by a step: reload and retry.", code="in_use") from exc


def provider_delete(*, by: Actor, provider: Provider) -> None:
    """Delete a provider that no step targets and no group lists; runs keep the host they used."""
    by.require("actions.delete_provider", "delete providers")
    users = [f"action {name}" for name in _action_names(provider.steps.all())]
    users += [
        f"group {name}" for name in provider.provider_groups.order_by("name").values_list("name", flat=True)
    ]
    _delete_unused(provider, users=users)


def provider_group_delete(*, by: Actor, group: ProviderGroup) -> None:
    by.require("actions.delete_providergroup", "delete provider groups")
    users = [f"action {name}" for name in _action_names(group.steps.all())]
    _delete_unused(group, users=users)


def _action_names(steps) -> list[str]:
    return list(steps.order_by("action__name").values_list("action__name", flat=True).distinct())


def _step_problems(step: ActionStep, parameter_names: list[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if step.target_kind == TargetKind.PROVIDER and step.provider is None:
        errors["provider"] = ["Choose the provider this step runs on."]
    if step.target_kind == TargetKind.GROUP and step.provider_group is None:
        errors["provider_group"] = ["Choose the provider group this step runs on."]
    if step.target_kind == TargetKind.TRIGGER and step.target_parameter not in parameter_names:
        errors["target_parameter"] = ["Name a declared parameter that holds the host."]
    problems = template_problems(step.command or "", parameter_names)
    if problems:
        errors["command"] = problems
    if not (step.command or "").strip():
        errors["command"] = ["A step needs a command."]
    if step.timeout_seconds < 1:
        errors["timeout_seconds"] = ["At least one second."]
    return errors


def action_save(
    *,
    by: Actor,
    action: Action | None = None,
    data: dict[str, Any],
    steps: list[dict[str, Any]] | None = None,
    services: Iterable[Any] | None = None,
) -> Action:
    """Create or update an action; `steps`, when given, replaces the steps in that order.

    Field errors name the step: `steps.2.command`."""
    by.require("actions.add_action" if action is None else "actions.change_action", "manage actions")
    action = action or Action()
    for field, value in data.items():
        if field not in ACTION_FIELDS:
            raise ValidationError({field: ["Not an action field."]})
        setattr(action, field, _tags(value, field) if field == "tags" else value)
    errors: dict[str, list[str]] = {}
    problems = declarations_problems(action.parameters)
    if problems:
        errors["parameters"] = problems
    try:
        action.full_clean(exclude=["parameters"])
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)

    names = [p["name"] for p in action.parameters] if not problems else []
    new_steps: list[ActionStep] = []
    for index, spec in enumerate(steps or [], start=1):
        unknown = set(spec) - set(STEP_FIELDS)
        if unknown:
            errors[f"steps.{index}"] = [f"Unknown step fields: {', '.join(sorted(unknown))}."]
            continue
        step = ActionStep(order=index * 10, **spec)
        for field, messages in _step_problems(step, names).items():
            errors[f"steps.{index}.{field}"] = messages
        new_steps.append(step)
    if steps is not None and not steps:
        errors["steps"] = ["An action needs at least one step."]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        action.save()
        if services is not None:
            action.services.set(list(services))
        if steps is not None:
            action.steps.all().delete()
            for step in new_steps:
                step.action = action
            ActionStep.objects.bulk_create(new_steps)
    return action


def action_delete(*, by: Actor, action: Action) -> None:
    """Delete an action with its steps. One that has runs (their history) or that something else
    protects (an automated response) is refused (409 in_use), naming what uses it: disable it
    instead."""
    by.require("actions.delete_action", "delete actions")
    try:
        with transaction.atomic():
            action.delete()
    except ProtectedError as exc:
        kinds = Counter(obj._meta for obj in exc.protected_objects)
        users = [
            f"{count} {opts.verbose_name if count == 1 else opts.verbose_name_plural}"
            for opts, count in sorted(kinds.items(), key=lambda entry: entry[0].label)
        ]
        raise ConflictError(
            f"{action.name} is still used by {' and '.join(users)}: disable it instead.",
            code="in_use",
            extra={"used_by": users},
        ) from exc
