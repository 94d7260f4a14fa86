"""Escalation policies with their ordered steps and the services and alert rules that page through
them. `policy_save` checks the policy, its steps and its links together and writes them in one
transaction, or refuses with every problem and writes nothing."""

from collections.abc import Iterable
from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from alerts.models import AlertRule
from common.actor import Actor
from incidents.models import Service
from notifications.models import Channel
from oncall.models import EscalationPolicy, EscalationStep, PolicyAlertRule, PolicyService, Schedule
from oncall.services._validation import Errors, clean_errors, merge, refuse_if

POLICY_FIELDS = ("name", "description", "repeat_count", "page_threshold", "notify_threshold")


class StepSpec(TypedDict, total=False):
    delay_minutes: int
    users: list[AbstractBaseUser]
    schedules: list[Schedule]
    channels: list[Channel]
    notify_all_oncall: bool


def _steps_errors(steps: list[StepSpec]) -> Errors:
    """Keyed `steps.<n>.<field>` (n from 1), `steps` for the list as a whole."""
    errors: Errors = {}
    if not steps:
        return {"steps": ["A policy needs at least one step."]}
    for number, step in enumerate(steps, start=1):
        key = f"steps.{number}."
        delay = step.get("delay_minutes", 0)
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
            errors[key + "delay_minutes"] = ["Minutes: a whole number, 0 or more."]
        elif number == 1 and delay != 0:
            errors[key + "delay_minutes"] = ["The first step runs when the page opens: its delay is 0."]
        users, schedules = step.get("users", []), step.get("schedules", [])
        channels = step.get("channels", [])
        if not (users or schedules or channels):
            errors[key + "users"] = ["Name someone to notify: people, schedules or channels."]
        inactive = [user.get_username() for user in users if not user.is_active]
        if inactive:
            errors[key + "users"] = [f"Deactivated, cannot be paged: {', '.join(inactive)}."]
        if step.get("notify_all_oncall") and not schedules:
            errors[key + "notify_all_oncall"] = ["Every on-call person of which schedules? Add one."]
    return errors


def _links_errors(
    *, policy: EscalationPolicy, services: Iterable[Service] | None, rules: Iterable[AlertRule] | None
) -> Errors:
    """A service or an alert rule pages through one policy: name the one that has it already."""
    errors: Errors = {}
    for field, model, key, items in (
        ("services", PolicyService, "service", services),
        ("alert_rules", PolicyAlertRule, "rule", rules),
    ):
        if items is None:
            continue
        taken = model.objects.filter(**{f"{key}__in": list(items)}).select_related("policy", key)
        if policy.pk is not None:
            taken = taken.exclude(policy_id=policy.pk)
        messages = [f"{getattr(link, key)} pages through “{link.policy}” already." for link in taken]
        if messages:
            errors[field] = messages
    return errors


def _steps_write(policy: EscalationPolicy, steps: list[StepSpec]) -> None:
    EscalationStep.objects.filter(policy=policy).delete()
    for position, spec in enumerate(steps):
        step = EscalationStep.objects.create(
            policy=policy,
            position=position,
            delay_minutes=spec.get("delay_minutes", 0),
            notify_all_oncall=bool(spec.get("notify_all_oncall", False)),
        )
        step.users.set(spec.get("users", []))
        step.schedules.set(spec.get("schedules", []))
        step.channels.set(spec.get("channels", []))


def _links_write(
    policy: EscalationPolicy, services: Iterable[Service] | None, rules: Iterable[AlertRule] | None
) -> None:
    if services is not None:
        services = list(services)
        PolicyService.objects.filter(policy=policy).exclude(service__in=services).delete()
        have = set(PolicyService.objects.filter(policy=policy).values_list("service_id", flat=True))
        PolicyService.objects.bulk_create(
            PolicyService(policy=policy, service=service) for service in services if service.pk not in have
        )
    if rules is not None:
        rules = list(rules)
        PolicyAlertRule.objects.filter(policy=policy).exclude(rule__in=rules).delete()
        have = set(PolicyAlertRule.objects.filter(policy=policy).values_list("rule_id", flat=True))
        PolicyAlertRule.objects.bulk_create(
            PolicyAlertRule(policy=policy, rule=rule) for rule in rules if rule.pk not in have
        )


def policy_save(
    *,
    by: Actor,
    policy: EscalationPolicy | None = None,
    steps: list[StepSpec] | None = None,
    services: Iterable[Service] | None = None,
    alert_rules: Iterable[AlertRule] | None = None,
    **fields: Any,
) -> EscalationPolicy:
    """Create or change a policy. `steps`, `services`, `alert_rules`, when given, replace the current
    ones; a new policy needs its steps."""
    if policy is None:
        by.require("oncall.add_escalationpolicy", "add escalation policies")
        policy = EscalationPolicy()
    else:
        by.require("oncall.change_escalationpolicy", "change escalation policies")
        policy = EscalationPolicy.objects.get(pk=policy.pk)
    for name, value in fields.items():
        if name not in POLICY_FIELDS:
            raise TypeError(f"policy_save() got an unexpected field {name!r}")
        setattr(policy, name, value)
    policy.name = (policy.name or "").strip()
    errors = clean_errors(policy)
    if policy.notify_threshold and policy.page_threshold and policy.notify_threshold < policy.page_threshold:
        # "P1" < "P2": a notify threshold more urgent than the page threshold would never apply.
        errors["notify_threshold"] = [
            f"Incidents at {policy.page_threshold} and above page already: notify down to a less "
            "urgent priority, or leave it empty."
        ]
    if steps is None and policy.pk is None:
        steps = []
    if steps is not None:
        steps = list(steps)
        merge(errors, _steps_errors(steps))
    services = list(services) if services is not None else None
    alert_rules = list(alert_rules) if alert_rules is not None else None
    merge(errors, _links_errors(policy=policy, services=services, rules=alert_rules))
    refuse_if(errors)
    with transaction.atomic():
        policy.save()
        if steps is not None:
            _steps_write(policy, steps)
        _links_write(policy, services, alert_rules)
    return policy


def policy_steps_set(*, by: Actor, policy: EscalationPolicy, steps: list[StepSpec]) -> EscalationPolicy:
    return policy_save(by=by, policy=policy, steps=steps)


def policy_services_set(
    *, by: Actor, policy: EscalationPolicy, services: Iterable[Service]
) -> EscalationPolicy:
    return policy_save(by=by, policy=policy, services=services)


def policy_rules_set(
    *, by: Actor, policy: EscalationPolicy, alert_rules: Iterable[AlertRule]
) -> EscalationPolicy:
    return policy_save(by=by, policy=policy, alert_rules=alert_rules)


def policy_delete(*, by: Actor, policy: EscalationPolicy) -> None:
    """Its services and rules stop paging; pages already open keep their history (policy empty)."""
    by.require("oncall.delete_escalationpolicy", "delete escalation policies")
    with transaction.atomic():
        policy.delete()
