"""The ops home's incident sections: open incidents by priority with their SLA clocks, and mine.
Registered from IncidentsConfig.ready()."""

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from common.admin.home import section_register
from incidents.admin.clocks import sla_clocks
from incidents.choices import OPEN_STATUSES
from incidents.selectors import incident_list

SHOWN = 25  # Rows per section; the section links to the full list.


def _open_incidents():
    # The list's joins without its services: the rows show priority, status, people and clocks.
    return (
        incident_list(filters={"status__in": OPEN_STATUSES})
        .prefetch_related(None)
        .order_by("priority__code", "detected_at", "id")
    )


def _rows(incidents) -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {
            "incident": incident,
            "url": reverse("admin:incidents_incident_change", args=[incident.pk]),
            "clocks": sla_clocks(incident, now=now),
        }
        for incident in incidents
    ]


def _list_url(**params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{reverse('admin:incidents_incident_changelist')}?{query}"


def open_incidents_context(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("incidents.view_incident"):
        return None
    incidents = list(_open_incidents()[: SHOWN + 1])
    return {
        "rows": _rows(incidents[:SHOWN]),
        "more": len(incidents) > SHOWN,
        "all_url": _list_url(status__in=",".join(OPEN_STATUSES)),
        "empty": "No open incident.",
    }


def my_incidents_context(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("incidents.view_incident"):
        return None
    user = request.user
    mine = Q(assignee=user) | Q(commander=user) | Q(role_assignments__user=user)
    incidents = list(_open_incidents().filter(mine).distinct()[: SHOWN + 1])
    return {
        "rows": _rows(incidents[:SHOWN]),
        "more": len(incidents) > SHOWN,
        "all_url": _list_url(assignee__id__exact=str(user.pk)),
        "empty": "No open incident is yours: none assigned to you, commanded by you or with a role of yours.",
    }


def register() -> None:
    section_register(
        "open-incidents",
        title="Open incidents",
        template="admin/home/incidents.html",
        order=100,
        context=open_incidents_context,
    )
    section_register(
        "my-incidents",
        title="My incidents",
        template="admin/home/incidents.html",
        order=110,
        context=my_incidents_context,
    )
