"""Message templates in Django's template language, rendered over the plain context of
rendering/context.py. Text out, no HTML escaping: each integration escapes for its own format."""

from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.loader_tags import ExtendsNode, IncludeNode

from notifications.choices import Audience
from notifications.models import MessageTemplate
from notifications.rendering.defaults import DEFAULTS
from notifications.transport import Message

# Only the built-in tags and filters; no loaders, so {% include %} and {% extends %} find nothing.
ENGINE = Engine(autoescape=False, loaders=[], libraries={}, builtins=[])
SUBJECT_MAX = 300


def template_source(kind: str, audience: str = Audience.INTERNAL) -> tuple[str, str]:
    """(subject, body) of the edited template for this kind and audience, else the default."""
    row = MessageTemplate.objects.filter(event_kind=kind, audience=audience).first()
    if row is not None:
        return row.subject, row.body
    return (
        DEFAULTS.get((kind, audience))
        or DEFAULTS.get((kind, Audience.INTERNAL))
        or ("{{ event.label }}", "{{ event.message }}")
    )


def template_compile_errors(*, subject: str, body: str) -> dict[str, list[str]]:
    """Field errors for templates that do not compile (the admin and API show them)."""
    errors: dict[str, list[str]] = {}
    for field, source in (("subject", subject), ("body", body)):
        try:
            compiled = ENGINE.from_string(source)
        except TemplateSyntaxError as exc:
            errors[field] = [f"Template error: {exc}"]
            continue
        if any(compiled.nodelist.get_nodes_by_type(node) for node in (IncludeNode, ExtendsNode)):
            # They compile, then fail on every message: message templates stand alone.
            errors[field] = ["Template error: {% include %} and {% extends %} are not available here."]
    return errors


def _render(source: str, context: dict[str, Any]) -> str:
    return ENGINE.from_string(source).render(Context(context, autoescape=False))


def message_render(*, subject: str, body: str, context: dict[str, Any]) -> Message:
    """The channel-independent message for `context` (see rendering/context.py)."""
    try:
        subject_text = " ".join(_render(subject, context).split())
        if (context.get("incident") or {}).get("is_drill"):
            # Whatever the template says, nobody may take a drill for an outage.
            subject_text = f"[DRILL] {subject_text}"
        subject_text = subject_text[:SUBJECT_MAX]
        text = _render(body, context).strip()
    except Exception as exc:  # A template written in the admin: a bad filter value, a bad tag argument.
        raise ValidationError({"body": [f"Template error: {exc}"]}) from exc
    incident = context.get("incident") or {}
    event = context["event"]
    links = context["links"]
    facts = []
    if incident:
        facts = [
            ("Status", incident["status"] + (f" ({incident['phase']})" if incident["phase"] else "")),
            ("Priority", f"{incident['priority']['code']} - {incident['priority']['name']}"),
            ("Services", ", ".join(incident["services"]) or "-"),
            ("Started", incident["started_at"]),
        ]
        if incident.get("commander"):
            facts.append(("Commander", incident["commander"]))
    return Message(
        event_kind=event["kind"],
        event_label=event["label"],
        subject=subject_text or event["label"],
        text=text,
        url=links.get("approval") or links.get("incident") or links.get("channel") or "",
        facts=tuple(facts),
        severity=incident.get("priority", {}).get("code", "") if incident else "",
        incident_id=incident.get("id"),
        incident_reference=incident.get("reference", ""),
        bundled=context["bundled"]["count"],
        bridge_url=incident.get("bridge_url", "") if incident else "",
        data={
            "event": {key: event[key] for key in ("kind", "label", "message", "at", "by")},
            "incident": {key: incident[key] for key in ("id", "reference", "title", "status", "services")}
            | {"priority": incident["priority"]["code"]}
            if incident
            else None,
            "run": context.get("run") or None,
            "bundled": context["bundled"]["count"],
        },
    )


def kind_audience(kind: str, channel_config: dict[str, Any] | None) -> str:
    """A channel may speak to customers (config {"audience": "customer"}): it gets the customer
    notices, for the kinds that have one (a default, or one written in the admin)."""
    wanted = (channel_config or {}).get("audience", Audience.INTERNAL)
    if wanted == Audience.CUSTOMER and (
        (kind, Audience.CUSTOMER) in DEFAULTS
        or MessageTemplate.objects.filter(event_kind=kind, audience=Audience.CUSTOMER).exists()
    ):
        return Audience.CUSTOMER
    return Audience.INTERNAL


def speaks_to_customers(channel_config: dict[str, Any] | None) -> bool:
    return (channel_config or {}).get("audience") == Audience.CUSTOMER
