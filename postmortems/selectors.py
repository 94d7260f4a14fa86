"""Reads for post-mortems: the facts computed from the incident (duration, detection), prefills,
who hears about a publication, and the querysets the admin and API share."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from actions.models import ActionRun
from alerts.models import Alert
from common.formatting import duration_hours_minutes
from incidents.models import Incident
from postmortems.choices import OPEN_ITEM_STATUSES
from postmortems.models import ActionItem, Postmortem, TimelineEntry


@dataclass(frozen=True)
class DetectionFacts:
    first_alert: Alert | None
    # detected_at - started_at: how long the impact went unnoticed.
    time_to_detect: timedelta
    summary: str


def detection_facts(incident: Incident) -> DetectionFacts:
    first = (
        Alert.objects.filter(incident=incident).select_related("source").order_by("received_at", "id").first()
    )
    delay = incident.detected_at - incident.started_at
    if first is not None:
        summary = (
            f"Alert {first.name or first.fingerprint} from {first.source.name} fired; the incident was "
            f"detected {duration_hours_minutes(delay)} after onset."
        )
    else:
        summary = f"Opened by a person; detected {duration_hours_minutes(delay)} after onset."
    return DetectionFacts(first_alert=first, time_to_detect=delay, summary=summary)


def incident_duration(incident: Incident) -> timedelta | None:
    """Onset to resolution (or None while unresolved)."""
    if incident.resolved_at is None:
        return None
    return incident.resolved_at - incident.started_at


def incident_runs(incident: Incident) -> QuerySet[ActionRun]:
    return ActionRun.objects.filter(incident=incident).select_related("action").order_by("created_at", "id")


def postmortem_resolution_prefill(incident: Incident) -> str:
    """The resolution section's starting text: the incident's summary, then each action run."""
    lines = [incident.resolution_summary.strip()] if incident.resolution_summary.strip() else []
    runs = list(incident_runs(incident))
    if runs:
        if lines:
            lines.append("")
        lines.append("Actions run:")
        for run in runs:
            who = run.requested_by.get_username() if run.requested_by_id else "automation"
            lines.append(
                f"- {run.action.name} (run #{run.pk}, requested by {who}): {run.get_status_display().lower()}"
            )
    return "\n".join(lines)


def postmortem_list() -> QuerySet[Postmortem]:
    return (
        Postmortem.objects.select_related("incident__priority")
        .prefetch_related("authors")
        .order_by("-created_at", "-id")
    )


def postmortem_detail_queryset() -> QuerySet[Postmortem]:
    return postmortem_list().prefetch_related(
        "services_impacted",
        "review_attendees",
        Prefetch("action_items", queryset=ActionItem.objects.select_related("owner")),
    )


def postmortem_detail_with_creator() -> QuerySet[Postmortem]:
    """The detail read as the API shows it, naming who drafted the post-mortem."""
    return postmortem_detail_queryset().select_related("created_by")


def postmortem_write_queryset() -> QuerySet[Postmortem]:
    """Rows handed to a service (API writes, an action item's post-mortem): with their incident,
    whose timeline the services write to."""
    return Postmortem.objects.select_related("incident")


def postmortem_timeline(postmortem: Postmortem, *, include_hidden: bool = False) -> list[TimelineEntry]:
    """The key moments (pinned entries) first, then the rest, each part oldest first."""
    entries = postmortem.entries.order_by("-pinned", "occurred_at", "id")
    if not include_hidden:
        entries = entries.filter(hidden=False)
    return list(entries)


def timeline_entry_list(*, postmortem: Postmortem) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(postmortem=postmortem)


def postmortem_stakeholders(postmortem: Postmortem) -> list[str]:
    """Who gets the published post-mortem: the incident's people (commander, assignee, role
    holders), the authors, the impacted services' owners and POSTMORTEM_STAKEHOLDERS, deduplicated
    case-insensitively, in that order."""
    incident = postmortem.incident
    people = [incident.commander, incident.assignee]
    people += [role.user for role in incident.role_assignments.select_related("user").order_by("role")]
    people += list(postmortem.authors.all())
    addresses = [user.email for user in people if user is not None and user.email]
    services = list(postmortem.services_impacted.all()) or list(incident.services.all())
    addresses += [service.owner_email for service in services if service.owner_email]
    addresses += list(settings.POSTMORTEM_STAKEHOLDERS)
    seen, unique = set(), []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


def action_items_list() -> QuerySet[ActionItem]:
    return ActionItem.objects.select_related("owner", "postmortem__incident", "follow_up_action").order_by(
        "due_date", "id"
    )


def action_items_overdue(today: date) -> QuerySet[ActionItem]:
    return action_items_list().filter(status__in=OPEN_ITEM_STATUSES, due_date__lt=today)
