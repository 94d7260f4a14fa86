"""The Statuspage-compatible JSON documents (/status/api/v2/*.json) as plain dicts, shaped as
Atlassian Statuspage documents them (https://metastatuspage.com/api), so widgets and tools written for
Statuspage read ours unchanged.

Ids are strings, as Statuspage's are: str(pk) for components and incidents (the code subscriber
webhooks and PublicUpdate.affected_components already use), "g<pk>" for groups (a group is a
component with `group: true` in Statuspage). Times are ISO 8601 with milliseconds and the offset of
the page's time zone, as Statuspage writes them; `page.time_zone` names that zone.

Only what a person chose to publish is read here: components that are shown, public incidents, their
updates. Never the Mitigate incident behind them, nor who posted. Every document costs a fixed number
of queries whatever the number of components, incidents and updates."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet, Subquery
from django.urls import reverse

from statuspage.branding import Branding
from statuspage.choices import ACTIVE, Kind, PublicStatus, worst
from statuspage.models import AffectedComponent, Component, PageSettings, PublicIncident, PublicUpdate
from statuspage.selectors import indicator_of

# One page per installation: Statuspage's page id is a random string, ours a fixed one.
PAGE_ID = "mitigate"
RECENT = 50  # incidents.json and scheduled-maintenances.json: the 50 most recent, as Statuspage.

UNRESOLVED = (PublicStatus.INVESTIGATING, PublicStatus.IDENTIFIED, PublicStatus.MONITORING)
UPCOMING = (PublicStatus.SCHEDULED,)
RUNNING = (PublicStatus.IN_PROGRESS, PublicStatus.VERIFYING)

# The documents' links are absolute, on SITE_URL: a cached document is the same whichever host name
# the first reader asked for (site_absolute).
Absolute = Callable[[str], str]


def site_absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def timestamp(value: datetime | None, page: Branding) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(page.time_zone)).isoformat(timespec="milliseconds")


def incident_path(pk: int) -> str:
    return reverse("statuspage:incident", args=[pk])


# --- Reads (a fixed number of queries each) --------------------------------------------------------


def shown_components() -> list[Component]:
    return list(Component.objects.filter(shown=True).select_related("group"))


def _latest(queryset: QuerySet) -> Subquery:
    return Subquery(queryset.order_by("-updated_at").values("updated_at")[:1])


def page_updated_at() -> datetime | None:
    """The last change the page shows: settings, a component, an incident or one of its updates."""
    row = (
        PageSettings.objects.filter(pk=1)
        .annotate(
            component=_latest(Component.objects.filter(shown=True)),
            incident=_latest(PublicIncident.objects.all()),
            posted=_latest(PublicUpdate.objects.all()),
        )
        .values("updated_at", "component", "incident", "posted")
        .first()
    )
    if row is None:
        return None
    return max((value for value in row.values() if value is not None), default=None)


def public_incidents(
    *, kind: str, statuses: Iterable[str] | None = None, limit: int | None = None, pk: int | None = None
) -> list[PublicIncident]:
    """Public incidents (or maintenance), newest first, with their updates and affected components
    prefetched: three queries whatever their number."""
    queryset = PublicIncident.objects.filter(kind=kind).prefetch_related(
        Prefetch("updates", queryset=PublicUpdate.objects.order_by("-created_at", "-id")),
        Prefetch("affected", queryset=AffectedComponent.objects.order_by("component_id")),
    )
    if statuses is not None:
        queryset = queryset.filter(status__in=list(statuses))
    if pk is not None:
        queryset = queryset.filter(pk=pk)
    if kind == Kind.MAINTENANCE:
        queryset = queryset.order_by("-scheduled_for", "-id")
    else:
        queryset = queryset.order_by("-started_at", "-id")
    return list(queryset[:limit] if limit else queryset)


def active_impacts() -> list[tuple[str, str]]:
    """(kind, impact) of every open incident and running maintenance: what the indicator weighs
    besides the components."""
    return list(PublicIncident.objects.filter(status__in=ACTIVE).values_list("kind", "impact"))


# --- Pieces -----------------------------------------------------------------------------------------


def page_doc(page: Branding, absolute: Absolute, updated_at: datetime | None) -> dict[str, Any]:
    return {
        "id": PAGE_ID,
        "name": page.name,
        "url": absolute(reverse("statuspage:index")),
        "time_zone": page.time_zone,
        "updated_at": timestamp(updated_at, page),
    }


def indicator(components: list[Component], impacts: Iterable[tuple[str, str]]) -> dict[str, str]:
    """status.indicator and status.description, by the page's one rule (selectors.indicator_of)."""
    found = indicator_of([component.status for component in components], impacts)
    return {"indicator": found.indicator, "description": found.description}


def component_docs(components: list[Component], page: Branding) -> list[dict[str, Any]]:
    """Shown components and the groups that hold any, in page order (top-level items by their
    order, each group followed by its components); `position` counts from 1 in that order."""
    children: dict[int, list[Component]] = {}
    top: list[tuple[int, str, Any]] = []
    for component in components:
        if component.group_id is None:
            top.append((component.order, component.name, component))
        else:
            children.setdefault(component.group_id, []).append(component)
    groups = {component.group_id: component.group for component in components if component.group_id}
    top += [(group.order, group.name, group) for group in groups.values()]
    ordered: list[Any] = []
    for _order, _name, item in sorted(top, key=lambda entry: (entry[0], entry[1].lower())):
        ordered.append(item)
        if not isinstance(item, Component):
            ordered += sorted(children[item.pk], key=lambda c: (c.order, c.name.lower()))
    docs = []
    for position, item in enumerate(ordered, start=1):
        if isinstance(item, Component):
            docs.append(component_doc(item, page, position))
        else:
            docs.append(group_doc(item, children[item.pk], page, position))
    return docs


def component_doc(component: Component, page: Branding, position: int | None = None) -> dict[str, Any]:
    return {
        "id": str(component.pk),
        "name": component.name,
        "status": component.status,
        "created_at": timestamp(component.created_at, page),
        "updated_at": timestamp(component.updated_at, page),
        "position": position if position is not None else component.order,
        "description": component.description or None,
        "showcase": True,  # Every shown component has its history bar on the page.
        "start_date": None,
        "group_id": f"g{component.group_id}" if component.group_id else None,
        "page_id": PAGE_ID,
        "group": False,
        "only_show_if_degraded": False,
    }


def group_doc(group, members: list[Component], page: Branding, position: int) -> dict[str, Any]:
    return {
        "id": f"g{group.pk}",
        "name": group.name,
        # A group's status is the worst of its components', as the page shows it.
        "status": worst(member.status for member in members),
        "created_at": timestamp(group.created_at, page),
        "updated_at": timestamp(max([group.updated_at, *(m.updated_at for m in members)]), page),
        "position": position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": PAGE_ID,
        "group": True,
        "only_show_if_degraded": False,
        "components": [str(member.pk) for member in sorted(members, key=lambda c: (c.order, c.name))],
    }


def update_doc(update: PublicUpdate, shown: dict[int, Component], page: Branding) -> dict[str, Any]:
    # Hidden components are left off the page, so their names are left out of the updates too.
    affected = [
        {key: change[key] for key in ("code", "name", "old_status", "new_status")}
        for change in update.affected_components or []
        if str(change.get("code", "")).isdigit() and int(change["code"]) in shown
    ]
    return {
        "id": str(update.pk),
        "status": update.status,
        "body": update.message,
        "incident_id": str(update.public_incident_id),
        "created_at": timestamp(update.created_at, page),
        "updated_at": timestamp(update.updated_at, page),
        "display_at": timestamp(update.created_at, page),
        "affected_components": affected or None,
        "deliver_notifications": update.notify,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_doc(
    public: PublicIncident, shown: dict[int, Component], page: Branding, absolute: Absolute
) -> dict[str, Any]:
    updates = list(public.updates.all())  # Prefetched, newest first.
    monitoring = next((u.created_at for u in updates if u.status == PublicStatus.MONITORING), None)
    doc = {
        "id": str(public.pk),
        "name": public.title,
        "status": public.status,
        "created_at": timestamp(public.created_at, page),
        "updated_at": timestamp(max([public.updated_at, *(u.created_at for u in updates)]), page),
        "monitoring_at": timestamp(monitoring, page) if public.kind == Kind.INCIDENT else None,
        "resolved_at": timestamp(public.resolved_at, page),
        "impact": public.impact,
        "shortlink": absolute(incident_path(public.pk)),
        "started_at": timestamp(public.started_at, page),
        "page_id": PAGE_ID,
        "incident_updates": [update_doc(update, shown, page) for update in updates],
        "components": [
            component_doc(shown[row.component_id], page)
            for row in public.affected.all()
            if row.component_id in shown
        ],
    }
    if public.kind == Kind.MAINTENANCE:
        doc["scheduled_for"] = timestamp(public.scheduled_for, page)
        doc["scheduled_until"] = timestamp(public.scheduled_until, page)
    return doc


# --- Documents --------------------------------------------------------------------------------------


def _incidents(
    *,
    kind: str,
    statuses: Iterable[str] | None,
    limit: int | None,
    components: list[Component],
    page: Branding,
    absolute: Absolute,
) -> list[dict[str, Any]]:
    shown = {component.pk: component for component in components}
    return [
        incident_doc(public, shown, page, absolute)
        for public in public_incidents(kind=kind, statuses=statuses, limit=limit)
    ]


def incident_document(public_pk: int, page: Branding) -> dict[str, Any] | None:
    """One incident as incidents.json shows it (for subscribers' webhooks), or None if it is gone."""
    components = shown_components()
    shown = {component.pk: component for component in components}
    found = public_incidents(kind=Kind.INCIDENT, pk=public_pk) or public_incidents(
        kind=Kind.MAINTENANCE, pk=public_pk
    )
    return incident_doc(found[0], shown, page, site_absolute) if found else None


def status_document(page: Branding, absolute: Absolute) -> dict[str, Any]:
    return {
        "page": page_doc(page, absolute, page_updated_at()),
        "status": indicator(shown_components(), active_impacts()),
    }


def components_document(page: Branding, absolute: Absolute) -> dict[str, Any]:
    return {
        "page": page_doc(page, absolute, page_updated_at()),
        "components": component_docs(shown_components(), page),
    }


def incidents_document(page: Branding, absolute: Absolute, *, unresolved: bool = False) -> dict[str, Any]:
    components = shown_components()
    return {
        "page": page_doc(page, absolute, page_updated_at()),
        "incidents": _incidents(
            kind=Kind.INCIDENT,
            statuses=UNRESOLVED if unresolved else None,
            limit=None if unresolved else RECENT,
            components=components,
            page=page,
            absolute=absolute,
        ),
    }


MAINTENANCE_SETS = {"all": None, "upcoming": UPCOMING, "active": RUNNING}


def maintenances_document(page: Branding, absolute: Absolute, *, which: str = "all") -> dict[str, Any]:
    components = shown_components()
    statuses = MAINTENANCE_SETS[which]
    return {
        "page": page_doc(page, absolute, page_updated_at()),
        "scheduled_maintenances": _incidents(
            kind=Kind.MAINTENANCE,
            statuses=statuses,
            limit=RECENT if statuses is None else None,
            components=components,
            page=page,
            absolute=absolute,
        ),
    }


def summary_document(page: Branding, absolute: Absolute) -> dict[str, Any]:
    """Everything a widget needs in one request: components, unresolved incidents, upcoming and
    running maintenance, and the overall status."""
    components = shown_components()
    shared = {"limit": None, "components": components, "page": page, "absolute": absolute}
    incidents = _incidents(kind=Kind.INCIDENT, statuses=UNRESOLVED, **shared)
    maintenances = _incidents(kind=Kind.MAINTENANCE, statuses=UPCOMING + RUNNING, **shared)
    impacts = [(Kind.INCIDENT, doc["impact"]) for doc in incidents]
    impacts += [(Kind.MAINTENANCE, doc["impact"]) for doc in maintenances if doc["status"] in RUNNING]
    return {
        "page": page_doc(page, absolute, page_updated_at()),
        "components": component_docs(components, page),
        "incidents": incidents,
        "scheduled_maintenances": maintenances,
        "status": indicator(components, impacts),
    }
