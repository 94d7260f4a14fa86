"""The incident page as a war room: the header (SLA clocks, roles, bridge) and the timeline with
its server-side filter (?timeline=notes), merged with the entries the apps above register
(incidents.admin.panels.timeline_source_register: notifications sent)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from incidents.admin import panels
from incidents.admin.clocks import sla_clocks
from incidents.choices import EventKind, Role
from incidents.models import Incident, TimelineEvent
from incidents.selectors import incident_timeline, incident_timeline_counts

ALL = "all"
PINNED = "pinned"
# Filter -> (label, the event kinds it shows).
EVENT_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "notes": ("Notes", (EventKind.NOTE,)),
    "updates": ("Status updates", (EventKind.STATUS_UPDATE, EventKind.UPDATE_OVERDUE)),
    "alerts": ("Alerts", (EventKind.ALERT_ATTACHED, EventKind.ALERT_RESOLVED)),
    "actions": ("Actions", tuple(kind for kind in EventKind.values if kind.startswith("action_"))),
}
# Partials other parts of the page may provide; the page works without them.
PIN_TOGGLE = "admin/incidents/incident/_pin_toggle.html"
TIMELINE_TOOLS = "admin/incidents/incident/_timeline_tools.html"


@dataclass(frozen=True)
class Line:
    """One timeline line: a TimelineEvent (`event` set) or a registered source's entry."""

    occurred_at: datetime
    kind: str  # CSS class: the event kind, or the source's name.
    label: str
    who: str
    source: str
    message: str
    url: str = ""
    event: TimelineEvent | None = None


def optional_template(name: str) -> str | None:
    """The template's name if it exists (another part of the project provides it), else None."""
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def _event_line(event: TimelineEvent) -> Line:
    return Line(
        occurred_at=event.occurred_at,
        kind=event.kind,
        label=event.get_kind_display(),
        who=event.actor_name,
        source=event.get_source_display(),
        message=event.message,
        event=event,
    )


def timeline_filter_known(key: str) -> bool:
    sources = {source.name for source in panels.timeline_sources()}
    return key in (ALL, PINNED, *EVENT_FILTERS, *sources)


def _filter_url(key: str) -> str:
    return ("?" if key == ALL else f"?timeline={key}") + "#incident-timeline"


def timeline_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    """The timeline's filter links with their counts and the lines the chosen filter shows, oldest
    first, in a fixed number of queries (events, their counts, one per registered source)."""
    sources = {source.name: source for source in panels.timeline_sources()}
    chosen = request.GET.get("timeline", ALL)
    if not timeline_filter_known(chosen):
        chosen = ALL
    counts = incident_timeline_counts(incident=incident)

    events = incident_timeline(incident=incident).order_by("occurred_at", "id")
    if chosen in EVENT_FILTERS:
        events = events.filter(kind__in=EVENT_FILTERS[chosen][1])
    elif chosen == PINNED:
        events = events.filter(pinned=True)
    lines = [] if chosen in sources else [_event_line(event) for event in events]
    source_counts = {}
    for name, source in sources.items():
        entries = source.entries(incident)  # Always: the filter links show every count.
        source_counts[name] = len(entries)
        if chosen in (ALL, name):
            lines.extend(
                Line(
                    occurred_at=e.occurred_at,
                    kind=name,
                    label=e.label,
                    who=e.who,
                    source=e.source,
                    message=e.message,
                    url=e.url,
                )
                for e in entries
            )
    lines.sort(key=lambda line: line.occurred_at)

    filters = [(ALL, "Everything", sum(n for n, _ in counts.values()) + sum(source_counts.values()))]
    filters += [
        (key, label, sum(counts.get(kind, (0, 0))[0] for kind in kinds))
        for key, (label, kinds) in EVENT_FILTERS.items()
    ]
    filters += [(name, source.label, source_counts.get(name)) for name, source in sources.items()]
    filters.append((PINNED, "Pinned", sum(pinned for _, pinned in counts.values())))
    return {
        "timeline_lines": lines,
        "timeline_filter": chosen,
        "timeline_filters": [
            {"key": key, "label": label, "count": count, "url": _filter_url(key), "active": key == chosen}
            for key, label, count in filters
        ],
        "timeline_pin_template": optional_template(PIN_TOGGLE),
        "timeline_tools_template": optional_template(TIMELINE_TOOLS),
    }


def roles_context(incident: Incident) -> list[tuple[str, Any]]:
    """Who holds which role, for the header: the commander and assignee fields, then the rest."""
    holders = {assignment.role: assignment.user for assignment in incident.role_assignments.all()}
    return [
        ("Commander", incident.commander),
        ("Assignee", incident.assignee),
        *((label, holders.get(role)) for role, label in Role.choices if role != Role.COMMANDER),
    ]


def header_context(incident: Incident) -> dict[str, Any]:
    return {"incident_clocks": sla_clocks(incident), "incident_roles": roles_context(incident)}
