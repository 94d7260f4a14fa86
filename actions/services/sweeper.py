"""Beat work for runs: expire unanswered approvals, re-dispatch scheduled runs whose message was
lost, and mark runs abandoned when their worker vanished. Each run is re-checked under its lock."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from actions.choices import RunStatus, StepStatus
from actions.models import ActionRun, StepRun
from actions.services.execution import run_time_budget
from actions.services.runs import run_enqueue, run_event_record, run_expire_apply
from common.actor import Actor, Source
from incidents.choices import EventKind

logger = logging.getLogger(__name__)
SWEEPER = Actor.system(source=Source.TASK, label="action-sweeper")
# A scheduled run's own message normally starts it within moments; after this, assume it was lost.
DISPATCH_GRACE = timedelta(seconds=30)


def _locked(run_id: int, status: str) -> ActionRun | None:
    return (
        ActionRun.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("action", "incident")
        .filter(pk=run_id, status=status)
        .first()
    )


def action_runs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts = {"expired": 0, "dispatched": 0, "abandoned": 0}

    awaiting = ActionRun.objects.filter(status=RunStatus.AWAITING_APPROVAL, approval_expires_at__lte=now)
    for run_id in awaiting.values_list("id", flat=True):
        with transaction.atomic():
            run = _locked(run_id, RunStatus.AWAITING_APPROVAL)
            if run is not None:
                run_expire_apply(run=run, now=now)
                counts["expired"] += 1

    lost = ActionRun.objects.filter(status=RunStatus.SCHEDULED, due_at__lte=now - DISPATCH_GRACE)
    for run_id in lost.values_list("id", flat=True):
        with transaction.atomic():
            run = _locked(run_id, RunStatus.SCHEDULED)
            if run is not None:
                # Same task id: if the first message still arrives, only one of them starts the run.
                run_enqueue(run)
                counts["dispatched"] += 1

    running = ActionRun.objects.filter(status=RunStatus.RUNNING, started_at__isnull=False)
    for run_id in running.values_list("id", flat=True):
        with transaction.atomic():
            run = _locked(run_id, RunStatus.RUNNING)
            if run is None:
                continue
            budget = timedelta(seconds=run_time_budget(run)) + settings.ACTION_ABANDON_MARGIN
            if run.started_at + budget > now:
                continue
            run.abandon()
            run.finished_at = now
            run.error = (
                f"No worker finished it: running since {run.started_at:%Y-%m-%d %H:%M:%S} UTC, longer than "
                f"its steps' timeouts allow ({int(budget.total_seconds())} s with margin)."
            )
            run.save()
            StepRun.objects.filter(run=run, status=StepStatus.RUNNING).update(
                status=StepStatus.FAILED, finished_at=now, error="The run was abandoned."
            )
            run_event_record(
                run=run,
                kind=EventKind.ACTION_FINISHED,
                by=SWEEPER,
                message=f"{run.action.name} (run #{run.pk}) abandoned: {run.error}",
                details={"status": run.status},
            )
            counts["abandoned"] += 1
    if any(counts.values()):
        logger.info("Action run sweep: %s", counts)
    return counts
