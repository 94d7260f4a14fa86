"""The demo's status page: components for the demo services in three groups, a resolved public
incident (the EU sign-in failures, four days ago), an active one linked to the open storefront
incident, and a database maintenance window in the coming days.

Written through the same services as the admin and the API, with subscribers not notified. Safe to
run again: components and groups are looked up by name, and the incidents and the maintenance are
posted only while the page has none."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from common.actor import Actor, Source
from demo.seed.story import scripted_clock
from incidents.models import Incident, Service
from statuspage.choices import ComponentStatus, Impact, Kind, PublicStatus
from statuspage.models import Component, ComponentGroup, PublicIncident
from statuspage.services.catalog import component_group_save, component_save
from statuspage.services.public_incidents import (
    maintenance_schedule,
    public_incident_open,
    public_update_post,
)

# (group, [(component, description, service slugs)])
LAYOUT = [
    (
        "Website",
        [
            ("Storefront", "Browsing, cart and checkout pages.", ["web"]),
            ("Sign-in", "Single sign-on for customers and staff.", ["auth-sso"]),
            ("Search", "Product search.", ["search"]),
        ],
    ),
    (
        "API",
        [
            ("Payments API", "Card payments and refunds.", ["payments-api"]),
            ("File uploads", "Images and documents.", ["object-storage"]),
        ],
    ),
    (
        "Infrastructure",
        [
            ("Database", "Orders and accounts.", ["postgres-primary"]),
            ("CDN", "Static assets and the edge.", ["edge-network"]),
        ],
    ),
]
ACTIVE_INCIDENT = "Elevated 5xx rate on the storefront"
RESOLVED_INCIDENT = "SSO login failures for EU users"


def _components(by: Actor, services: dict[str, Service]) -> dict[str, Component]:
    found = {c.name: c for c in Component.objects.all()}
    for group_order, (group_name, members) in enumerate(LAYOUT, start=1):
        group = ComponentGroup.objects.filter(name=group_name).first() or component_group_save(
            by=by, name=group_name, order=group_order * 10
        )
        for order, (name, description, slugs) in enumerate(members, start=1):
            if name not in found:
                found[name] = component_save(
                    by=by,
                    name=name,
                    description=description,
                    group=group,
                    order=order * 10,
                    services=[services[slug] for slug in slugs if slug in services],
                )
    return found


def _resolved(by: Actor, components: dict[str, Component]) -> None:
    incident = Incident.objects.filter(title=RESOLVED_INCIDENT).first()
    t0 = (incident.detected_at if incident else timezone.now() - timedelta(days=4)) + timedelta(minutes=10)
    with scripted_clock(t0):
        public = public_incident_open(
            by=by,
            title="Sign-in failures for customers in Europe",
            message="Some customers in Europe cannot sign in. We are investigating.",
            impact=Impact.MAJOR,
            components={components["Sign-in"]: ComponentStatus.PARTIAL_OUTAGE},
            # Not linked: its notes would land on that incident's finished timeline out of order.
            notify=False,
        )
    for minutes, status, message in (
        (20, PublicStatus.IDENTIFIED, "An expired certificate at our identity provider; replacing it."),
        (40, PublicStatus.MONITORING, "Sign-in works again; we are monitoring."),
        (70, PublicStatus.RESOLVED, "Sign-in has worked normally for 30 minutes. Sorry for the trouble."),
    ):
        with scripted_clock(t0 + timedelta(minutes=minutes)):
            public_update_post(public_incident=public, by=by, status=status, message=message, notify=False)


def _active(by: Actor, components: dict[str, Component]) -> None:
    incident = Incident.objects.filter(title=ACTIVE_INCIDENT, resolved_at__isnull=True).first()
    public_incident_open(
        by=by,
        title="Errors on the storefront and at checkout",
        message="Some pages of the storefront and some payments fail. We are investigating.",
        impact=Impact.MINOR,
        components={
            components["Storefront"]: ComponentStatus.DEGRADED,
            components["Payments API"]: ComponentStatus.DEGRADED,
        },
        incident=incident if incident and not hasattr(incident, "public_incident") else None,
        notify=False,
    )


def _maintenance(by: Actor, components: dict[str, Component]) -> None:
    start = (timezone.now() + timedelta(days=3)).replace(hour=6, minute=0, second=0, microsecond=0)
    maintenance_schedule(
        by=by,
        title="Database upgrade",
        message="We are upgrading the database. Checkout may be slow for up to 30 minutes.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
        components=[components["Database"], components["Storefront"]],
        notify=False,
    )


def statuspage_ensure(*, services: dict[str, Service]) -> dict[str, Any]:
    by = Actor.system(source=Source.CLI, label="seed_demo")
    components = _components(by, services)
    if not PublicIncident.objects.filter(kind=Kind.INCIDENT).exists():
        _resolved(by, components)
        _active(by, components)
    if not PublicIncident.objects.filter(kind=Kind.MAINTENANCE).exists():
        _maintenance(by, components)
    return {
        "components": Component.objects.count(),
        "incidents": PublicIncident.objects.filter(kind=Kind.INCIDENT).count(),
        "maintenance": PublicIncident.objects.filter(kind=Kind.MAINTENANCE).count(),
    }


def statuspage_lines(*, base: str, statuspage: dict[str, Any]) -> list[str]:
    return [
        "",
        f"  Status page: {base}/status/ ({statuspage['components']} components, "
        f"{statuspage['incidents']} public incidents, {statuspage['maintenance']} maintenance).",
        f"    Post to it from an incident's page (panel *Status page*), or {base}/admin/statuspage/",
    ]
