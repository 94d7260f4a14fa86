"""The ops home's alert section: the latest alerts no incident has taken in, each with a way to
open one from it. Registered from AlertsConfig.ready()."""

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from alerts.selectors import alert_list
from common.admin.home import section_register

SHOWN = 15


def _create_incident_url(alert_id: int) -> str | None:
    """The "create an incident from this alert" page, where that page exists."""
    try:
        return reverse("admin:alerts_alert_create_incident", args=[alert_id])
    except NoReverseMatch:
        return None


def unlinked_alerts_context(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("alerts.view_alert"):
        return None
    alerts = list(alert_list().prefetch_related(None).filter(incident__isnull=True)[: SHOWN + 1])
    can_create = request.user.has_perm("incidents.add_incident")
    rows = [
        {
            "alert": alert,
            "url": reverse("admin:alerts_alert_change", args=[alert.pk]),
            "create_url": _create_incident_url(alert.pk) if can_create else None,
        }
        for alert in alerts[:SHOWN]
    ]
    return {
        "rows": rows,
        "more": len(alerts) > SHOWN,
        "all_url": reverse("admin:alerts_alert_changelist") + "?incident__isnull=True",
        "empty": "Every alert is in an incident.",
    }


def register() -> None:
    section_register(
        "unlinked-alerts",
        title="Recent alerts not in an incident",
        template="admin/home/alerts.html",
        order=300,
        context=unlinked_alerts_context,
    )
