"""Reads of drills. Timings come from the record, through one selector (`drill_timings`) that the
report, the admin, the API and the analytics panel all use:

- detect: from the drill's origin (its injection run's start, else the drill's start, which is when
  the synthetic alert was received) to the incident's creation (for an alert-opened incident that
  is when processing opened it: its `detected_at` is the alert's receipt by definition);
- acknowledge, first action, resolve: from the incident's creation to its acknowledgement, to the
  first action run the responders requested on it (not the drill's own injection or cleanup), and
  to its resolution."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Min, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from actions.models import ActionRun
from drills.choices import DrillStatus
from drills.models import DrillReport, DrillRun, DrillScenario, DrillSchedule
from incidents.models import Incident, RoleAssignment, TimelineEvent

TIMING_NAMES = ("detect", "acknowledge", "first_action", "resolve")


def _first_action_at() -> Subquery:
    runs = (
        ActionRun.objects.filter(incident_id=OuterRef("drill_incident_id"))
        .exclude(pk=OuterRef("injection_id"))
        .exclude(pk=OuterRef("cleanup_id"))
        .order_by()
        .values("incident_id")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    return Subquery(runs[:1])


def drill_run_list(*, status: str | None = None) -> QuerySet[DrillRun]:
    """Runs with what their timings and lists need, in a constant number of queries."""
    runs = (
        DrillRun.objects.select_related(
            "scenario",
            "started_by",
            "incident__priority",
            "alert__incident__priority",
            "injection_run",
            "report",
        )
        .annotate(
            drill_incident_id=Coalesce(F("incident_id"), F("alert__incident_id")),
            injection_id=Coalesce(F("injection_run_id"), Value(0)),
            cleanup_id=Coalesce(F("cleanup_run_id"), Value(0)),
        )
        .annotate(first_action_at=_first_action_at())
        .order_by("-started_at", "-id")
    )
    if status:
        runs = runs.filter(status=status)
    return runs


def drill_run_get(*, pk: int) -> DrillRun:
    return drill_run_list().get(pk=pk)


def drill_incident(run: DrillRun) -> Incident | None:
    """The run's incident: set when it ends, or opened meanwhile from its synthetic alert."""
    if run.incident_id is not None:
        return run.incident
    return run.alert.incident if run.alert_id is not None else None


@dataclass(frozen=True)
class DrillTimings:
    origin: datetime
    detected_at: datetime | None
    acknowledged_at: datetime | None
    first_action_at: datetime | None
    resolved_at: datetime | None

    def _since(self, start: datetime | None, end: datetime | None) -> timedelta | None:
        return end - start if start is not None and end is not None else None

    @property
    def detect(self) -> timedelta | None:
        return self._since(self.origin, self.detected_at)

    @property
    def acknowledge(self) -> timedelta | None:
        return self._since(self.detected_at, self.acknowledged_at)

    @property
    def first_action(self) -> timedelta | None:
        return self._since(self.detected_at, self.first_action_at)

    @property
    def resolve(self) -> timedelta | None:
        return self._since(self.detected_at, self.resolved_at)

    def as_seconds(self) -> dict[str, float | None]:
        return {
            f"{name}_seconds": (value.total_seconds() if (value := getattr(self, name)) is not None else None)
            for name in TIMING_NAMES
        }


def drill_timings(run: DrillRun) -> DrillTimings:
    """From a run of `drill_run_list` (no query); another run costs one query for its first action."""
    incident = drill_incident(run)
    origin = run.started_at
    if run.injection_run_id is not None and run.injection_run.started_at is not None:
        origin = run.injection_run.started_at
    if incident is None:
        return DrillTimings(origin, None, None, None, None)
    if hasattr(run, "first_action_at"):
        first_action_at = run.first_action_at
    else:
        first_action_at = (
            ActionRun.objects.filter(incident=incident)
            .exclude(pk__in=[pk for pk in (run.injection_run_id, run.cleanup_run_id) if pk])
            .aggregate(first=Min("created_at"))["first"]
        )
    return DrillTimings(
        origin=origin,
        detected_at=incident.created_at,
        acknowledged_at=incident.acknowledged_at,
        first_action_at=first_action_at,
        resolved_at=incident.resolved_at,
    )


@dataclass(frozen=True)
class Responder:
    name: str
    roles: list[str]
    first_at: datetime


def drill_responders(run: DrillRun) -> list[Responder]:
    """Who responded: the people on the incident's timeline (the drill's own system entries left
    out) and in its roles, in the order they first acted."""
    incident = drill_incident(run)
    if incident is None:
        return []
    people: dict[int, dict] = {}
    events = (
        TimelineEvent.objects.filter(incident=incident, actor__isnull=False)
        .values("actor_id", "actor__username")
        .annotate(first=Min("occurred_at"))
    )
    for row in events:
        people[row["actor_id"]] = {"name": row["actor__username"], "roles": [], "first": row["first"]}
    for assignment in RoleAssignment.objects.filter(incident=incident).select_related("user"):
        entry = people.setdefault(
            assignment.user_id,
            {"name": assignment.user.get_username(), "roles": [], "first": assignment.created_at},
        )
        entry["roles"].append(assignment.get_role_display())
    for field, label in (("commander", "Commander"), ("assignee", "Assignee")):
        user = getattr(incident, field)
        if user is not None:
            entry = people.setdefault(
                user.pk, {"name": user.get_username(), "roles": [], "first": incident.created_at}
            )
            entry["roles"].append(label)
    return sorted(
        (Responder(name=p["name"], roles=p["roles"], first_at=p["first"]) for p in people.values()),
        key=lambda r: (r.first_at, r.name),
    )


def drill_scenario_list() -> QuerySet[DrillScenario]:
    return (
        DrillScenario.objects.select_related("source", "priority", "injection_action", "cleanup_action")
        .prefetch_related("services")
        .order_by("name")
    )


def drill_report_list() -> QuerySet[DrillReport]:
    """Reports with their runs as `drill_run_list` reads them (timings without a query per row)."""
    return DrillReport.objects.prefetch_related(Prefetch("run", queryset=drill_run_list())).order_by(
        "-run__started_at", "-id"
    )


def drill_schedule_list() -> QuerySet[DrillSchedule]:
    return (
        DrillSchedule.objects.select_related("scenario", "periodic_task__crontab")
        .prefetch_related("participants")
        .order_by("name")
    )


def drill_runs_completed(*, since: datetime | None = None) -> QuerySet[DrillRun]:
    """Completed runs, oldest first: the analytics panel's series."""
    runs = drill_run_list(status=DrillStatus.COMPLETED).order_by("started_at", "id")
    return runs.filter(started_at__gte=since) if since else runs
