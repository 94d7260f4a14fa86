"""The demo's catalog: services, one user per group, a fresh API token, and the action templates
cloned onto the worker's own machine. Each is topped up, never duplicated, on every run."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from actions.choices import ProviderKind
from actions.models import Action, Provider
from actions.services import action_create_from_template, action_save, provider_save
from actions.template_library import template_list
from common.actor import Actor, Source
from common.selectors import api_token_list
from common.services import api_token_create, api_token_revoke
from incidents.choices import ServiceTier, ServiceType
from incidents.management.web_url import local_web_url
from incidents.models import Service
from incidents.services import service_create

RUNBOOKS = "https://runbooks.example.com"
SERVICES = [
    {
        "slug": "web",
        "name": "Web storefront",
        "type": ServiceType.WEB,
        "owner_team": "Storefront",
        "tier": ServiceTier.TIER_1,
        "description": "Customer-facing shop: catalog, cart and checkout.",
    },
    {
        "slug": "postgres-primary",
        "name": "PostgreSQL primary",
        "type": ServiceType.DATABASE,
        "owner_team": "Data platform",
        "tier": ServiceTier.TIER_1,
        "description": "Orders, customers and inventory; streaming replicas in two zones.",
    },
    {
        "slug": "auth-sso",
        "name": "Auth / SSO",
        "type": ServiceType.AUTH,
        "owner_team": "Identity",
        "tier": ServiceTier.TIER_1,
        "description": "Customer and staff sign-in, SAML and OIDC identity providers.",
    },
    {
        "slug": "object-storage",
        "name": "Object storage",
        "type": ServiceType.STORAGE,
        "owner_team": "Storage",
        "tier": ServiceTier.TIER_2,
        "description": "Product images, invoices and backups, replicated across regions.",
    },
    {
        "slug": "edge-network",
        "name": "Edge network",
        "type": ServiceType.NETWORK,
        "owner_team": "Network",
        "tier": ServiceTier.TIER_1,
        "description": "CDN, load balancers and DNS in front of every public endpoint.",
    },
    {
        "slug": "payments-api",
        "name": "Payments API",
        "type": ServiceType.WEB,
        "owner_team": "Payments",
        "tier": ServiceTier.TIER_1,
        "description": "Card and wallet payments through two acquirers.",
    },
    {
        "slug": "search",
        "name": "Search",
        "type": ServiceType.OTHER,
        "owner_team": "Discovery",
        "tier": ServiceTier.TIER_2,
        "description": "Product search and suggestions.",
    },
]
# username, first name, group (None: superuser), what they are for.
USERS = [
    ("admin", "Admin", None, "superuser"),
    ("alice", "Alice", "Responder", "Responder"),
    ("bob", "Bob", "Approver", "Approver"),
    ("carol", "Carol", "Viewer", "Viewer"),
]

# The demo's actions run on the worker itself ("make run" starts one). Only these are enabled there:
# they read, or write under /tmp. The others would change the machine (restart services, delete files,
# replace data); they are cloned disabled, to be pointed at a real host first.
LOCAL_PROVIDER = "this-worker"
DEMO_API_TOKEN_NAME = "seed_demo"
SAFE_ON_THE_WORKER = ("health-check", "log-collection")
DISABLED_NOTE = (
    "Disabled in the demo: it would change the machine the worker runs on. Point its steps at a real "
    "host (Providers) and enable it."
)


def web_url(path: str = "") -> str:
    return f"{local_web_url()}{path}"


def api_token_renew(*, admin) -> str:
    """A fresh API token for the admin on every run, like the passwords: only its hash is
    stored, so the previous run's key cannot be printed again; that one is revoked."""
    for old in api_token_list(user=admin).filter(name=DEMO_API_TOKEN_NAME, revoked_at__isnull=True):
        api_token_revoke(token=old, by=None)
    _, key = api_token_create(user=admin, name=DEMO_API_TOKEN_NAME)
    return key


def services_ensure() -> tuple[dict[str, Service], int]:
    system = Actor.system(source=Source.CLI, label="seed_demo")
    existing = {s.slug: s for s in Service.objects.filter(slug__in=[d["slug"] for d in SERVICES])}
    new = 0
    for data in SERVICES:
        if data["slug"] not in existing:
            existing[data["slug"]] = service_create(
                by=system, runbook_url=f"{RUNBOOKS}/{data['slug']}", **data
            )
            new += 1
    return existing, new


def users_ensure() -> tuple[dict[str, Any], dict[str, str]]:
    user_model = get_user_model()
    users, passwords = {}, {}
    for username, first_name, group, _ in USERS:
        user, _ = user_model.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "email": f"{username}@example.com"}
        )
        user.is_staff = True
        user.is_active = True
        user.is_superuser = group is None
        passwords[username] = secrets.token_urlsafe(12)
        user.set_password(passwords[username])
        user.save()
        if group:
            user.groups.add(Group.objects.get(name=group))
        users[username] = user
    return users, passwords


def actions_ensure() -> int | None:
    """Clone every action template onto the local provider, once each; None when local providers
    are off (there is nowhere safe to run them)."""
    if not settings.ALLOW_LOCAL_PROVIDER:
        return None
    system = Actor.system(source=Source.CLI, label="seed_demo")
    provider = Provider.objects.filter(name=LOCAL_PROVIDER).first()
    if provider is None:
        provider = provider_save(
            by=system, data={"name": LOCAL_PROVIDER, "kind": ProviderKind.LOCAL, "tags": ["demo"]}
        )
    created = 0
    for template in template_list():
        if Action.objects.filter(template_key=template.key).exists():
            continue
        if Action.objects.filter(name=template.name).exists():
            continue  # Someone's own action took the name: leave it alone.
        action = action_create_from_template(by=system, template_key=template.key, target=provider)
        changes: dict[str, Any] = {}
        if template.key == "health-check":
            # The demo's web server is what listens on the worker: check it answers.
            changes["parameters"] = [
                {**p, "default": web_url("/admin/login/")} if p["name"] == "endpoint" else p
                for p in action.parameters
            ]
        if template.key not in SAFE_ON_THE_WORKER:
            changes["enabled"] = False
            changes["description"] = f"{DISABLED_NOTE}\n\n{action.description}"
        if changes:
            action_save(by=system, action=action, data=changes)
        created += 1
    return created
