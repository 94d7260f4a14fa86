"""Helpers for the domain-layer tests: a controllable clock and incidents driven into a status
through the services, the way production gets them there."""

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps as django_apps
from django.utils import timezone

from common.actor import Actor, Source
from common.groups import groups_sync
from incidents.choices import IncidentStatus
from incidents.models import Incident, TimelineEvent
from incidents.services import (
    incident_acknowledge,
    incident_auto_resolve,
    incident_close,
    incident_dismiss,
    incident_hold,
    incident_reopen,
    incident_resolve,
)
from postmortems.choices import POSTMORTEM_PRIORITIES, PostmortemStatus
from postmortems.models import Postmortem
from postmortems.services import postmortem_create, postmortem_submit, postmortem_update

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AUTOMATION = Actor.system(source=Source.TASK, label="auto-remediation")


class Clock:
    """Stands in for django.utils.timezone.now, which services and auto_now fields call."""

    def __init__(self, start: datetime = START):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def install_clock(monkeypatch, start: datetime = START) -> Clock:
    clock = Clock(start)
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def postmortem_ready(*, incident: Incident, by: Actor) -> Incident:
    """What a P1/P2 incident needs before it may close: its post-mortem written (created if
    missing, executive summary and root cause filled in) and submitted for review. Other
    priorities need nothing. Returns the incident re-read, so its post-mortem is not stale."""
    incident = Incident.objects.select_related("priority").get(pk=incident.pk)
    if incident.closing_priority in POSTMORTEM_PRIORITIES:
        postmortem = Postmortem.objects.filter(incident=incident).first()
        if postmortem is None:
            postmortem = postmortem_create(incident=incident, by=by)
        if postmortem.status == PostmortemStatus.DRAFT:
            postmortem = postmortem_update(
                postmortem=postmortem,
                by=by,
                data={
                    "executive_summary": "Checkout failed for 40 minutes after a bad release.",
                    "root_cause": "Release 2026.3 exhausted the database connection pool.",
                },
            )
            postmortem_submit(postmortem=postmortem, by=by)
    return Incident.objects.select_related("priority").get(pk=incident.pk)


S = IncidentStatus
# How to reach each status through the services: name -> (status, [(service, kwargs, actor key)]).
# Resolved incidents get their post-mortem in review on the way (a P1/P2 needs it to close), so
# every path's incident can take every transition its status allows.
PATHS: dict[str, tuple[IncidentStatus, list[tuple[Any, dict[str, Any], str]]]] = {
    "new": (S.NEW, []),
    "in_progress": (S.IN_PROGRESS, [(incident_acknowledge, {}, "human")]),
    "on_hold": (
        S.ON_HOLD,
        [(incident_acknowledge, {}, "human"), (incident_hold, {"reason": "Vendor ticket"}, "human")],
    ),
    "resolved": (
        S.RESOLVED,
        [
            (incident_acknowledge, {}, "human"),
            (incident_resolve, {"summary": "Rolled back"}, "human"),
            (postmortem_ready, {}, "human"),
        ],
    ),
    "closed": (
        S.CLOSED,
        [
            (incident_acknowledge, {}, "human"),
            (incident_resolve, {"summary": "Rolled back"}, "human"),
            (postmortem_ready, {}, "human"),
            (incident_close, {}, "human"),
        ],
    ),
    # The same statuses reached another way: the outcome of a transition depends on status only.
    "in_progress_reopened": (
        S.IN_PROGRESS,
        [
            (incident_acknowledge, {}, "human"),
            (incident_resolve, {"summary": "Rolled back"}, "human"),
            (incident_reopen, {"reason": "Errors are back"}, "human"),
        ],
    ),
    "resolved_automatically": (
        S.RESOLVED,
        [(incident_auto_resolve, {"summary": "Alert cleared"}, "system"), (postmortem_ready, {}, "human")],
    ),
    "closed_dismissed": (S.CLOSED, [(incident_dismiss, {"reason": "Flapping alert"}, "human")]),
}


def drive(incident: Incident, path: str, *, human: Actor, system: Actor = AUTOMATION) -> Incident:
    """Move a new incident along PATHS[path] and return it as the last service returned it."""
    actors = {"human": human, "system": system}
    status, steps = PATHS[path]
    for service, kwargs, who in steps:
        incident = service(incident=incident, by=actors[who], **kwargs)
    assert incident.status == status
    return incident


STATE_FIELDS = (
    "status",
    "phase",
    "assignee_id",
    "commander_id",
    "priority_id",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "resolution_summary",
    "dismissal_reason",
    "duplicate_of_id",
    "reopen_count",
    "peak_priority",
    "next_update_due_at",
    "started_at",
    "title",
    "updated_at",
)


def snapshot(incident: Incident) -> dict[str, Any]:
    """What the database holds for the incident, and how long its timeline is."""
    row = Incident.objects.filter(pk=incident.pk).values(*STATE_FIELDS).get()
    row["timeline"] = TimelineEvent.objects.filter(incident_id=incident.pk).count()
    row["status_updates"] = incident.status_updates.count()
    row["roles"] = incident.role_assignments.count()
    return row


def events(incident: Incident, kind: str | None = None) -> list[TimelineEvent]:
    qs = TimelineEvent.objects.filter(incident_id=incident.pk).order_by("id")
    if kind is not None:
        qs = qs.filter(kind=kind)
    return list(qs)


def seed_reference_data() -> None:
    """Put back the rows migrations seed (priorities, groups). Transactional tests need it: the
    flush after any earlier one wiped them, and serialized_rollback clashes with the content types
    that flush recreates when the earlier test did not use it too."""
    migration = importlib.import_module("incidents.migrations.0002_priorities_and_groups")
    migration.seed_priorities(django_apps, None)
    groups_sync(django_apps)
