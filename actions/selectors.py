"""Reads for actions: lists with their joins and per-action statistics aggregated in the database."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
)

from actions.choices import RunStatus
from actions.models import (
    Action,
    ActionRun,
    ActionStep,
    Provider,
    ProviderGroup,
    Runbook,
    RunbookStep,
    RunbookVersion,
    StepRun,
)
from actions.services.capture import CAPTURE_FAILED
from actions.services.catalog import SECRET_FIELDS
from incidents.choices import EventKind
from incidents.models import TimelineEvent

FINISHED_WITH_RESULT = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT)


def action_list_with_stats(*, filters: dict[str, Any] | None = None) -> QuerySet[Action]:
    """Actions with usage count, success rate inputs, average duration and last run, in one query.

    success_rate = succeeded_count / finished_count (runs that reached a result)."""
    duration = ExpressionWrapper(F("runs__finished_at") - F("runs__started_at"), output_field=DurationField())
    return Action.objects.filter(**(filters or {})).annotate(
        run_count=Count("runs", distinct=True),
        finished_count=Count("runs", filter=Q(runs__status__in=FINISHED_WITH_RESULT), distinct=True),
        succeeded_count=Count("runs", filter=Q(runs__status=RunStatus.SUCCEEDED), distinct=True),
        average_duration=Avg(duration, filter=Q(runs__status__in=FINISHED_WITH_RESULT)),
        last_run_at=Max("runs__created_at"),
    )


def action_success_rate(action: Action) -> float | None:
    """From the annotations of action_list_with_stats: None before any run has a result."""
    if not getattr(action, "finished_count", 0):
        return None
    return action.succeeded_count / action.finished_count


def action_list_with_services() -> QuerySet[Action]:
    """The catalog as listed: statistics and services."""
    # Meta.ordering does not apply to an aggregating query: order explicitly.
    return action_list_with_stats().prefetch_related("services").order_by("name", "id")


def action_detail_queryset() -> QuerySet[Action]:
    """One action with its statistics, ordered steps and services."""
    steps = ActionStep.objects.select_related("provider", "provider_group").order_by("order", "id")
    return action_list_with_stats().prefetch_related(Prefetch("steps", queryset=steps), "services")


def provider_list() -> QuerySet[Provider]:
    return Provider.objects.all()


def provider_list_without_secrets() -> QuerySet[Provider]:
    """Providers with whether each secret is set, computed in the database: the list never
    decrypts, or even loads, a secret."""
    flags = {
        f"{field}_set": ExpressionWrapper(~Q(**{field: ""}), output_field=BooleanField())
        for field in SECRET_FIELDS
    }
    return provider_list().annotate(**flags).defer(*SECRET_FIELDS)


def provider_group_list() -> QuerySet[ProviderGroup]:
    return ProviderGroup.objects.prefetch_related("providers")


def action_run_list(*, filters: dict[str, Any] | None = None) -> QuerySet[ActionRun]:
    return ActionRun.objects.select_related(
        "action", "incident", "requested_by", "decided_by", "cancelled_by"
    ).filter(**(filters or {}))


def action_run_detail_queryset() -> QuerySet[ActionRun]:
    step_runs = StepRun.objects.select_related("provider").order_by("step_order", "host", "id")
    return action_run_list().prefetch_related(Prefetch("step_runs", queryset=step_runs))


@dataclass(frozen=True)
class Snapshot:
    """One service's state capture on an incident: its run (with step outputs), or, when it could
    not be requested at all, the reason."""

    service_name: str
    action_name: str
    run: ActionRun | None = None
    error: str = ""

    @property
    def status(self) -> str:
        return self.run.status if self.run is not None else "not_requested"

    @property
    def failed(self) -> bool:
        return self.run is None or self.run.status in SNAPSHOT_FAILED


SNAPSHOT_FAILED = (
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.REJECTED,
    RunStatus.EXPIRED,
    RunStatus.CANCELLED,
    RunStatus.ABANDONED,
)


def incident_snapshots(*, incident_id: int) -> list[Snapshot]:
    """The incident's state captures, by service name: every capture run (each step's output
    prefetched), then the captures that could not be requested (from the timeline), so a failed
    capture is shown with its reason rather than missing. Two queries for runs, one for failures."""
    step_runs = StepRun.objects.select_related("provider").order_by("step_order", "host", "id")
    runs = (
        ActionRun.objects.filter(incident_id=incident_id, capture_service__isnull=False)
        .select_related("action", "capture_service")
        .prefetch_related(Prefetch("step_runs", queryset=step_runs))
        .order_by("capture_service__name", "id")
    )
    snapshots = [
        Snapshot(service_name=run.capture_service.name, action_name=run.action.name, run=run) for run in runs
    ]
    captured = {s.service_name for s in snapshots}
    failures = TimelineEvent.objects.filter(
        incident_id=incident_id, kind=EventKind.NOTE, details__capture=CAPTURE_FAILED
    ).order_by("occurred_at", "id")
    for event in failures:
        name = event.details.get("service_name", "")
        if name in captured:
            continue  # Requested later (a retried task): the run tells the rest.
        captured.add(name)
        snapshots.append(
            Snapshot(
                service_name=name,
                action_name=event.details.get("action", ""),
                error=event.details.get("error", ""),
            )
        )
    return snapshots


def runbook_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Runbook]:
    """Runbooks with their service, last editor and ordered steps (with actions) in three queries."""
    steps = RunbookStep.objects.select_related("action").order_by("position", "id")
    return (
        Runbook.objects.select_related("service", "updated_by")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .filter(**(filters or {}))
    )


def runbook_versions(*, runbook_id: int) -> QuerySet[RunbookVersion]:
    """Newest first."""
    return RunbookVersion.objects.filter(runbook_id=runbook_id).select_related("author").order_by("-number")


def runbooks_for_incident(*, incident_id: int, runbook_ids: Iterable[int] = ()) -> list[Runbook]:
    """The runbooks of the incident's services, and those named (an alert rule's, given by the app
    that knows them), each once, by title."""
    wanted = Q(service__incidents__id=incident_id) | Q(pk__in=list(runbook_ids))
    ids = Runbook.objects.filter(wanted).values("pk")
    return list(runbook_list(filters={"pk__in": ids}).order_by("title", "id"))
