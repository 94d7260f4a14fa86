"""Writes for alert rules with their automated responses, and for silences."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerts.models import AlertRule, AutomatedResponse, Silence
from alerts.response_parameters import response_problems
from common.actor import Actor

RULE_FIELDS = (
    "name",
    "description",
    "order",
    "enabled",
    "matchers",
    "alert_name",
    "severity",
    "service",
    "priority",
    "incident_policy",
    "group_by",
    "continue_matching",
    "runbook",
)
RESPONSE_FIELDS = ("action", "trigger", "delay_seconds", "parameters", "enabled")
SILENCE_FIELDS = ("matchers", "starts_at", "ends_at", "reason")


def _assign(obj: Any, data: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for field, value in data.items():
        if field not in allowed:
            raise ValidationError({field: [f"Not {what} field."]})
        setattr(obj, field, value)


def _response_problems(response: AutomatedResponse) -> dict[str, list[str]]:
    """The response's field errors: its own fields first, then its parameter mapping against the
    action's declarations (which full_clean cannot see; see alerts.response_parameters)."""
    problems: dict[str, list[str]] = {}
    try:
        response.full_clean(exclude=["rule"])
    except ValidationError as exc:
        problems = exc.update_error_dict(problems)
    for field, messages in response_problems(response).items():
        problems.setdefault(field, []).extend(messages)
    return problems


def alert_rule_save(
    *,
    by: Actor,
    rule: AlertRule | None = None,
    data: dict[str, Any],
    responses: list[dict[str, Any]] | None = None,
) -> AlertRule:
    """Create or update a rule; `responses`, when given, replaces its automated responses in that
    order. Field errors for a response name it: `responses.2.parameters`."""
    by.require("alerts.add_alertrule" if rule is None else "alerts.change_alertrule", "manage alert rules")
    rule = rule or AlertRule()
    _assign(rule, data, RULE_FIELDS, "an alert rule")
    errors: dict[str, list[str]] = {}
    try:
        rule.full_clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    new_responses: list[AutomatedResponse] = []
    for index, spec in enumerate(responses or [], start=1):
        response = AutomatedResponse(order=index * 10)
        try:
            _assign(response, spec, RESPONSE_FIELDS, "an automated response")
        except ValidationError as exc:
            problems = exc.update_error_dict({})
        else:
            problems = _response_problems(response)
        for field, messages in problems.items():
            errors[f"responses.{index}.{field}"] = messages
        new_responses.append(response)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rule.save()
        if responses is not None:
            rule.responses.all().delete()
            for response in new_responses:
                response.rule = rule
            AutomatedResponse.objects.bulk_create(new_responses)
    return rule


def alert_rule_delete(*, by: Actor, rule: AlertRule) -> None:
    """Delete a rule and its responses; alerts it matched keep the record of the match."""
    by.require("alerts.delete_alertrule", "delete alert rules")
    rule.delete()


def silence_save(*, by: Actor, silence: Silence | None = None, data: dict[str, Any]) -> Silence:
    """Create or change a maintenance window."""
    by.require("alerts.add_silence" if silence is None else "alerts.change_silence", "manage silences")
    silence = silence or Silence(created_by=by.user)
    _assign(silence, data, SILENCE_FIELDS, "a silence")
    silence.reason = (silence.reason or "").strip()
    silence.full_clean()
    with transaction.atomic():
        silence.save()
    return silence


def silence_expire(*, by: Actor, silence: Silence, at: datetime | None = None) -> Silence:
    """End a silence now (it stays on record); one already over is left as it is."""
    by.require("alerts.change_silence", "manage silences")
    now = at or timezone.now()
    with transaction.atomic():
        locked = Silence.objects.select_for_update().get(pk=silence.pk)
        if locked.ends_at > now:
            # One that has not started yet becomes an empty window: it will never silence anything.
            locked.starts_at = min(locked.starts_at, now)
            locked.ends_at = now
            locked.save(update_fields=["starts_at", "ends_at"])
    return locked
