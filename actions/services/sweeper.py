"""Beat work for runs: expire unanswered approvals, re-dispatch scheduled runs whose message was
lost, and mark runs abandoned when their worker vanished, after killing the commands it left
running. Each run is re-checked under its lock."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from actions.choices import RunStatus, StepStatus
from actions.models import ActionRun, StepRun
from actions.runners import RunnerError, runner_for
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
    for run in running.select_related("action"):
        budget = timedelta(seconds=run_time_budget(run)) + settings.ACTION_ABANDON_MARGIN
        if run.started_at + budget > now:
            continue
        # Kill first, outside any transaction: SSH to a slow host must not hold the row (on SQLite,
        # the whole database) locked. A worker still alive this late loses its command either way.
        killed = _kill_left_running(run)
        with transaction.atomic():
            run = _locked(run.pk, RunStatus.RUNNING)
            if run is None:
                continue
            run.abandon()
            run.finished_at = now
            run.error = (
                f"No worker finished it: running since {run.started_at:%Y-%m-%d %H:%M:%S} UTC, longer than "
                f"its steps' timeouts allow ({int(budget.total_seconds())} s with margin)."
            ) + (f" Process groups: {'; '.join(killed)}." if killed else "")
            run.save()
            StepRun.objects.filter(run=run, status=StepStatus.RUNNING).update(
                status=StepStatus.FAILED, finished_at=now, error="The run was abandoned."
            )
            run_event_record(
                run=run,
                kind=EventKind.ACTION_FINISHED,
                by=SWEEPER,
                message=f"{run.action.name} (run #{run.pk}) abandoned: {run.error}",
                details={"status": run.status, "processes": killed},
            )
            counts["abandoned"] += 1
    if any(counts.values()):
        logger.info("Action run sweep: %s", counts)
    return counts


def _kill_left_running(run: ActionRun) -> list[str]:
    """Kill the process groups of the run's steps still marked running: what its dead worker left
    behind, on this machine or over SSH. Returns one line per step and host, for the timeline."""
    said = []
    steps = StepRun.objects.filter(run=run, status=StepStatus.RUNNING, process_group__isnull=False)
    for step_run in steps.select_related("provider").order_by("step_order", "id"):
        where = f"{step_run.step_name} on {step_run.host or '-'}"
        group = step_run.process_group
        if step_run.provider is None:
            said.append(f"{where}: process group {group['pgid']} not killed, its provider was deleted")
            continue
        runner = None
        try:
            runner = runner_for(step_run.provider)
            said.append(f"{where}: {runner.kill_group(group)}")
        except RunnerError as exc:
            said.append(f"{where}: process group {group['pgid']} not killed ({exc.code}: {exc.message})")
        finally:
            if runner is not None:
                runner.close()
    for line in said:
        logger.warning("Run #%s abandoned: %s", run.pk, line)
    return said
