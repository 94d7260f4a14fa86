"""Reads: querysets with their joins applied, so the admin and the API run the same fast query."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Q, QuerySet
from django_fsm import has_transition_perm

from incidents.choices import IncidentStatus
from incidents.guards import record_joins
from incidents.models import Incident, Priority, Service, StatusUpdate, TimelineEvent

TRANSITION_NAMES = ("acknowledge", "hold", "resume", "resolve", "reopen", "close", "dismiss")


def incident_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Incident]:
    qs = Incident.objects.select_related("priority", "assignee", "commander", *record_joins())
    qs = qs.prefetch_related("services")
    return qs.filter(**(filters or {}))


def incident_write_queryset() -> QuerySet[Incident]:
    """For endpoints that pass the row to a service and answer with a fresh read: the list's
    joins without its services."""
    return incident_list().prefetch_related(None)


def incident_detail_queryset() -> QuerySet[Incident]:
    return (
        incident_list()
        .select_related("created_by", "duplicate_of")
        .prefetch_related("role_assignments__user")
    )


def incident_timeline(*, incident: Incident) -> QuerySet[TimelineEvent]:
    return TimelineEvent.objects.filter(incident=incident).select_related("actor", "pinned_by")


def incident_timeline_counts(*, incident: Incident) -> dict[str, tuple[int, int]]:
    """Event kind -> (events, pinned events) of the incident, in one query."""
    rows = (
        TimelineEvent.objects.filter(incident=incident)
        .order_by()
        .values("kind")
        .annotate(events=Count("id"), pinned=Count("id", filter=Q(pinned=True)))
    )
    return {row["kind"]: (row["events"], row["pinned"]) for row in rows}


def incident_status_updates(*, incident: Incident) -> QuerySet[StatusUpdate]:
    return StatusUpdate.objects.filter(incident=incident).select_related("author")


def incident_last_update_at(*, incident: Incident) -> datetime | None:
    return (
        StatusUpdate.objects.filter(incident=incident)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def incident_available_transitions(*, incident: Incident, user: AbstractBaseUser) -> list[str]:
    """The human transitions this user may apply right now (admin buttons, API hints)."""
    return [name for name in TRANSITION_NAMES if has_transition_perm(getattr(incident, name), user)]


def incident_guarded_transitions(*, incident: Incident, user: AbstractBaseUser) -> list[str]:
    """The transitions the status and this user's permissions allow but a condition refuses for
    now (closing a P1/P2 before its post-mortem is in review): shown with the reason, not hidden."""
    guarded = []
    for name in TRANSITION_NAMES:
        method = getattr(incident, name)
        meta, state = method._django_fsm, incident.status
        if (
            meta.has_transition(state)
            and meta.has_transition_perm(incident, state, user)
            and not meta.conditions_met(incident, state)
        ):
            guarded.append(name)
    return guarded


def incident_sla_candidates(*, now: datetime) -> QuerySet[Incident]:
    """Open incidents with a target past due that the sweeper has not recorded yet."""
    working = (IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD)
    response = Q(status=IncidentStatus.NEW, response_due_at__lte=now, response_breached_at__isnull=True)
    resolution = Q(
        status__in=(IncidentStatus.NEW, *working),
        resolution_due_at__lte=now,
        resolution_breached_at__isnull=True,
    )
    # Overdue updates: the first reminder of this due time, then one per interval until one is posted.
    update = Q(status__in=working, next_update_due_at__lte=now) & (
        Q(update_overdue_for__isnull=True)
        | Q(update_overdue_for__lt=F("next_update_due_at"))
        | Q(next_reminder_at__lte=now)
    )
    return (
        Incident.objects.annotate(next_reminder_at=F("update_overdue_for") + F("priority__update_interval"))
        .filter(response | resolution | update)
        .order_by("id")
    )


def service_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Service]:
    return Service.objects.filter(**(filters or {}))


def priority_list() -> QuerySet[Priority]:
    return Priority.objects.all()


def priority_by_code(*, code: str) -> Priority | None:
    return priority_list().filter(code=code).first()
