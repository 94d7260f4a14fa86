"""What history_plan draws and history_write stores: plain plans, and the catalog they use."""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model

from actions.models import Action
from alerts.choices import SourceKind
from alerts.models import AlertSource
from demo.history.data import ACTIONS, RESPONDERS, RUNBOOKS, SERVICES, SOURCE_SLUG
from incidents.choices import ServiceTier
from incidents.models import Priority, Service


@dataclass(slots=True)
class AlertPlan:
    name: str
    fingerprint: str
    severity: str
    starts_at: datetime
    received_at: datetime
    ends_at: datetime
    opened_incident: bool


@dataclass(slots=True)
class RunPlan:
    action: str  # template key, see ACTIONS
    status: str
    started_at: datetime
    finished_at: datetime
    automated: bool
    error: str = ""


@dataclass(slots=True)
class ItemPlan:
    kind: str
    description: str
    owner: int  # index into the responders
    due_date: date
    status: str
    created_at: datetime
    completed_at: datetime | None = None
    wont_do_reason: str = ""


@dataclass(slots=True)
class PostmortemPlan:
    status: str
    created_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    root_cause: str
    items: list[ItemPlan] = field(default_factory=list)


@dataclass(slots=True)
class IncidentPlan:
    title: str
    priority: str
    services: list[str]
    alert_name: str
    root_cause: str
    status: str
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    first_resolved_at: datetime | None = None  # before a reopen
    reopened_at: datetime | None = None
    is_drill: bool = False
    auto_resolved: bool = False
    reopen_count: int = 0
    dismissal_reason: str = ""
    response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    assignee: int | None = None
    users_affected: str = ""
    alerts: list[AlertPlan] = field(default_factory=list)
    runs: list[RunPlan] = field(default_factory=list)
    postmortem: PostmortemPlan | None = None


@dataclass
class Catalog:
    """The rows that history points at: services, priorities, actions, responders, an alert source."""

    services: dict[str, Service]
    priorities: dict[str, Priority]
    actions: dict[str, Action]
    users: list
    source: AlertSource


def catalog_ensure() -> Catalog:
    """Top up what the history needs, leaving existing rows as they are: the services above (by
    slug), responders without a password or an email address (so reminder emails skip them), one
    disabled alert source, and a disabled stand-in for each action that does not exist yet."""
    services = {s.slug: s for s in Service.objects.all()}
    for slug, name, kind, team, tier, _, _ in SERVICES:
        if slug not in services:
            if Service.objects.filter(name=name).exists():
                name = f"{name} ({slug})"
            services[slug] = Service.objects.create(
                slug=slug,
                name=name,
                type=kind,
                owner_team=team,
                tier=ServiceTier(tier),
                runbook_url=f"{RUNBOOKS}/{slug}",
                description="Added by generate_history.",
            )
    user_model = get_user_model()
    users = []
    for username, first_name in RESPONDERS:
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "last_name": "(history)"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users.append(user)
    actions = {}
    for key, name, category, _ in ACTIONS:
        action = Action.objects.filter(template_key=key).order_by("id").first()
        if action is None:
            action, _ = Action.objects.get_or_create(
                name=f"{name} (history)",
                defaults={
                    "category": category,
                    "enabled": False,
                    "description": "Stands in for the runs of generate_history; it has no steps.",
                },
            )
        actions[key] = action
    source = AlertSource.objects.filter(slug=SOURCE_SLUG).first()
    if source is None:
        # Nobody knows this token: the source exists only to own the historical alerts.
        source = AlertSource.objects.create(
            name="History (generated)",
            slug=SOURCE_SLUG,
            kind=SourceKind.GENERIC,
            token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
            token_prefix="history",
            enabled=False,
        )
    priorities = {p.code: p for p in Priority.objects.all()}
    return Catalog(services=services, priorities=priorities, actions=actions, users=users, source=source)
