"""The context every message template sees. Plain values only (strings, numbers, lists, dicts),
never model instances, so a template written in the admin cannot walk from the incident to
anything it should not print.

- `event`: kind, label, message (the timeline's sentence), details (dict), at, by
- `incident`: id, reference, title, description, status, phase, priority {code, name,
  update_interval}, services (names), teams, impact, started_at, detected_at, acknowledged_at,
  resolved_at, duration, next_update_due_at, commander, assignee, resolution_summary, root_cause,
  bridge_url, is_drill — empty when the event has no incident
- `status_update`: message, visibility, phase, author (the update the event is about, if any)
- `run`: id, action, status, parameters, error, requested_by (action run events)
- `links`: incident, approval, postmortem, status_page, channel, ack (absolute URLs, or ""); for a
  page, `ack` is the signed acknowledge link (the one-click one in an SMS, when the operator allows it)
- `bundled`: count and summary of the events folded into this message
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from actions.models import ActionRun
from common.formatting import duration_hours_minutes
from incidents.models import Incident, StatusUpdate
from notifications.choices import EventKind

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


def _time(value: datetime | None) -> str:
    return value.strftime(TIME_FORMAT) if value else ""


def _admin_url(name: str, *args: Any) -> str:
    try:
        return settings.SITE_URL + reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def _interval(value: timedelta | None) -> str:
    return duration_hours_minutes(value) if value else ""


def _impact(incident: Incident) -> str:
    parts = []
    if incident.users_affected:
        parts.append(f"users affected: {incident.get_users_affected_display().lower()}")
    if incident.services_down:
        parts.append(f"{incident.services_down} service(s) down")
    if incident.data_at_risk:
        parts.append("data at risk")
    if incident.security_issue:
        parts.append("security issue")
    return "; ".join(parts).capitalize()


def incident_context(incident: Incident | None) -> dict[str, Any]:
    if incident is None:
        return {}
    services = list(incident.services.all())
    end = incident.resolved_at
    return {
        "id": incident.pk,
        "reference": incident.reference,
        "title": incident.title,
        "description": incident.description,
        "status": incident.get_status_display(),
        "phase": incident.get_phase_display() if incident.phase else "",
        "priority": {
            "code": incident.priority.code,
            "name": incident.priority.name,
            "update_interval": _interval(incident.priority.update_interval),
        },
        "services": [service.name for service in services],
        "teams": sorted({service.owner_team for service in services if service.owner_team}),
        "impact": _impact(incident),
        "started_at": _time(incident.started_at),
        "detected_at": _time(incident.detected_at),
        "acknowledged_at": _time(incident.acknowledged_at),
        "resolved_at": _time(incident.resolved_at),
        "duration": duration_hours_minutes(end - incident.started_at) if end else "",
        "next_update_due_at": _time(incident.next_update_due_at),
        "commander": incident.commander.get_username() if incident.commander else "",
        "assignee": incident.assignee.get_username() if incident.assignee else "",
        "resolution_summary": incident.resolution_summary,
        "root_cause": incident.get_root_cause_category_display() if incident.root_cause_category else "",
        "bridge_url": getattr(incident, "bridge_url", ""),
        "is_drill": incident.is_drill,
    }


def run_context(run: ActionRun | None) -> dict[str, Any]:
    if run is None:
        return {}
    return {
        "id": run.pk,
        "action": run.action.name,
        "status": run.get_status_display(),
        "parameters": ", ".join(f"{key}={value}" for key, value in (run.parameters or {}).items()),
        "error": run.error,
        "requested_by": run.requested_by.get_username() if run.requested_by else run.requested_label,
    }


def status_update_context(update: StatusUpdate | None) -> dict[str, Any]:
    if update is None:
        return {}
    return {
        "message": update.message,
        "visibility": update.get_visibility_display(),
        "phase": update.get_phase_display() if update.phase else "",
        "author": update.author.get_username() if update.author else "",
    }


def message_context(
    *,
    event: dict[str, Any],
    incident: Incident | None,
    run: ActionRun | None = None,
    status_update: StatusUpdate | None = None,
    bundled: list[str] | None = None,
) -> dict[str, Any]:
    kind = event.get("kind", "")
    details = event.get("details") or {}
    links = {
        "incident": _admin_url("incidents_incident_change", incident.pk) if incident else "",
        "approval": "",
        "postmortem": "",
        "status_page": settings.STATUS_PAGE_URL,
        "channel": _admin_url("notifications_channel_change", details["channel_id"])
        if details.get("channel_id")
        else "",
        "ack": "",
    }
    if kind == EventKind.PAGE:
        links["ack"] = details.get("ack_url_one_click") or details.get("ack_url") or ""
        # The link a message leads with (an SMS carries only this one): acknowledging is the action.
        links["approval"] = links["ack"]
    if run is not None:
        links["approval"] = (
            _admin_url("actions_actionrun_decide", run.pk, "approve")
            if kind == EventKind.RUN_AWAITING_APPROVAL
            else _admin_url("actions_actionrun_change", run.pk)
        )
    if details.get("postmortem"):
        links["postmortem"] = _admin_url("postmortems_postmortem_change", details["postmortem"])
    bundled = bundled or []
    return {
        "event": {
            "kind": kind,
            "label": EventKind(kind).label if kind in EventKind.values else kind,
            "message": event.get("message", ""),
            "details": details,
            "at": event.get("at", ""),
            "by": event.get("by", ""),
        },
        "incident": incident_context(incident),
        "run": run_context(run),
        "status_update": status_update_context(status_update),
        "links": links,
        "bundled": {"count": len(bundled), "summary": _summary(bundled)},
    }


def _summary(messages: list[str]) -> str:
    """ "+7 more alerts joined": the first few in full, then how many others."""
    shown = messages[:3]
    rest = len(messages) - len(shown)
    text = "; ".join(shown)
    return f"{text}; and {rest} more" if rest > 0 else text
