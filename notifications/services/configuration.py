"""Rules, message templates and contact methods: the writes the admin and the API share."""

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction

from common.actor import Actor
from incidents.models import Incident, Priority, Service
from notifications.choices import (
    RULE_KINDS,
    Audience,
    ContactKind,
    EventKind,
    RecipientRole,
)
from notifications.models import Channel, ContactMethod, MessageTemplate, NotificationRule
from notifications.rendering.context import message_context
from notifications.rendering.render import message_render, template_compile_errors
from notifications.transport import Message

RULE_PERMISSION = "notifications.change_notificationrule"
TEMPLATE_PERMISSION = "notifications.change_messagetemplate"
CONTACT_PERMISSION = "notifications.change_contactmethod"
SIMPLE_RULE_FIELDS = (
    "name",
    "position",
    "enabled",
    "event_kinds",
    "teams",
    "roles",
    "contact_kinds",
    "stop",
    "bundle_seconds",
    "create_incident_channel",
)


def _choices_errors(values: Any, allowed: list[str], what: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        return [f"A list of {what}."]
    unknown = [value for value in values if value not in allowed]
    return [f"Unknown {what}: {', '.join(unknown)}."] if unknown else []


def rule_save(
    *,
    by: Actor,
    rule: NotificationRule | None = None,
    priorities: list[Priority] | None = None,
    services: list[Service] | None = None,
    channels: list[Channel] | None = None,
    users: list[User] | None = None,
    groups: list[Group] | None = None,
    **fields: Any,
) -> NotificationRule:
    """Create or change a rule; relations given as lists replace the current ones."""
    by.require(RULE_PERMISSION, "change notification rules")
    rule = rule or NotificationRule()
    for name, value in fields.items():
        if name not in SIMPLE_RULE_FIELDS:
            raise TypeError(f"rule_save() got an unexpected field {name!r}")
        setattr(rule, name, value)
    errors: dict[str, list[str]] = {}
    kinds = _choices_errors(rule.event_kinds, RULE_KINDS, "event kinds")
    if kinds or not rule.event_kinds:
        errors["event_kinds"] = kinds or ["Choose at least one event kind."]
    for field, allowed, what in (
        ("roles", RecipientRole.values, "roles"),
        ("contact_kinds", ContactKind.values, "contact kinds"),
    ):
        problems = _choices_errors(getattr(rule, field), allowed, what)
        if problems:
            errors[field] = problems
    if not isinstance(rule.teams, list) or not all(isinstance(team, str) for team in rule.teams):
        errors["teams"] = ["A list of team names."]
    if rule.create_incident_channel and EventKind.INCIDENT_OPENED not in (rule.event_kinds or []):
        errors["create_incident_channel"] = [
            "Incident channels open with the incident: add “Incident opened”."
        ]
    try:
        rule.full_clean(exclude=["priorities", "services", "channels", "users", "groups"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rule.save()
        for name, values in (
            ("priorities", priorities),
            ("services", services),
            ("channels", channels),
            ("users", users),
            ("groups", groups),
        ):
            if values is not None:
                getattr(rule, name).set(values)
    return rule


def rule_delete(*, rule: NotificationRule, by: Actor) -> None:
    by.require("notifications.delete_notificationrule", "delete notification rules")
    rule.delete()


def template_save(
    *,
    by: Actor,
    event_kind: str,
    audience: str = Audience.INTERNAL,
    subject: str,
    body: str,
    template: MessageTemplate | None = None,
) -> MessageTemplate:
    by.require(TEMPLATE_PERMISSION, "change message templates")
    errors = template_compile_errors(subject=subject, body=body)
    if event_kind not in RULE_KINDS:
        errors["event_kind"] = [f"Unknown event kind {event_kind!r}."]
    if audience not in Audience.values:
        errors["audience"] = [f"Unknown audience {audience!r}."]
    if not subject.strip():
        errors["subject"] = ["A message needs a subject."]
    if not body.strip():
        errors["body"] = ["A message needs a body."]
    clash = MessageTemplate.objects.filter(event_kind=event_kind, audience=audience)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        errors["event_kind"] = ["This event kind has a template for this audience already."]
    if errors:
        raise ValidationError(errors)
    template = template or MessageTemplate()
    template.event_kind, template.audience, template.subject, template.body = (
        event_kind,
        audience,
        subject,
        body,
    )
    template.save()
    return template


def template_preview(
    *, by: Actor, subject: str, body: str, event_kind: str, incident: Incident | None
) -> Message:
    """Render a template (saved or not) against a real incident, as its next message would read.
    It shows the incident's fields, so the reader must be allowed to see both."""
    by.require("notifications.view_messagetemplate", "preview message templates")
    if incident is not None:
        by.require("incidents.view_incident", "preview messages about incidents")
    errors = template_compile_errors(subject=subject, body=body)
    if errors:
        raise ValidationError(errors)
    label = EventKind(event_kind).label if event_kind in EventKind.values else event_kind
    event = {
        "kind": event_kind,
        "message": f"{label} (preview).",
        "details": {},
        "at": "",
        "by": "preview",
    }
    if incident is not None:
        incident = Incident.objects.select_related("priority", "commander", "assignee").get(pk=incident.pk)
    return message_render(subject=subject, body=body, context=message_context(event=event, incident=incident))


MAX_PAGE_DELAY_MINUTES = 24 * 60


def contact_method_save(
    *,
    by: Actor,
    user: User,
    kind: str,
    address: str,
    enabled: bool = True,
    page_delay_minutes: int = 0,
    method: ContactMethod | None = None,
) -> ContactMethod:
    """A person changes their own contact methods; changing someone else's needs the permission.
    `page_delay_minutes`: when paged, how long after the page this method is used (SMS at 0, email
    a minute later, ...)."""
    if by.user is None or by.user.pk != user.pk:
        by.require(CONTACT_PERMISSION, "change other people's contact methods")
    address = address.strip()
    errors: dict[str, list[str]] = {}
    if kind == ContactKind.EMAIL:
        from django.core.validators import validate_email

        try:
            validate_email(address)
        except ValidationError:
            errors["address"] = ["Enter a valid email address."]
    elif kind == ContactKind.SMS:
        digits = address[1:]
        if not (address.startswith("+") and digits.isdigit() and 8 <= len(digits) <= 15):
            errors["address"] = ["Enter the phone number in E.164 form, e.g. +4915112345678."]
    else:
        errors["kind"] = [f"Unknown contact kind {kind!r}."]
    if not isinstance(page_delay_minutes, int) or isinstance(page_delay_minutes, bool):
        errors["page_delay_minutes"] = ["Minutes: a whole number."]
    elif not 0 <= page_delay_minutes <= MAX_PAGE_DELAY_MINUTES:
        errors["page_delay_minutes"] = [f"Minutes from 0 to {MAX_PAGE_DELAY_MINUTES} (a day)."]
    clash = ContactMethod.objects.filter(user=user, kind=kind, address=address)
    if method is not None:
        clash = clash.exclude(pk=method.pk)
    if not errors and clash.exists():
        errors["address"] = ["This contact method exists already."]
    if errors:
        raise ValidationError(errors)
    method = method or ContactMethod(user=user)
    method.kind, method.address, method.enabled = kind, address, enabled
    method.page_delay_minutes = page_delay_minutes
    method.save()
    return method


def contact_method_delete(*, by: Actor, method: ContactMethod) -> None:
    """A person removes their own contact method; removing someone else's needs the permission."""
    if by.user is None or by.user.pk != method.user_id:
        by.require("notifications.delete_contactmethod", "delete other people's contact methods")
    method.delete()
