"""Executing a scheduled run: the steps its snapshot fixed at the request (never the action's
current ones), in order, each on its hosts (in parallel for a group), with conditions, retries,
per-host results and output written as it arrives. Each command's placeholders are checked again
before it runs, so a step saved before that check existed cannot run unsafe.

The run row is locked only to change its status (start, finish); the steps run outside any
transaction so their progress is visible while they work."""

import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from actions.choices import FailurePolicy, RunStatus, StepCondition, StepStatus
from actions.models import ActionRun, Provider, StepRun
from actions.runners import runner_for
from actions.runners.base import Runner, RunnerError
from actions.services.output import StepOutput
from actions.services.runs import run_event_record
from actions.services.snapshot import (
    LEGACY_ERROR,
    PlannedHost,
    PlannedStep,
    run_planned_steps,
    unsafe_placement_error,
)
from actions.services.step_writes import StepWrites
from actions.signals import run_finished
from common.actor import Actor, Source
from common.commit_flush import commit_without_flush_wait
from incidents.choices import EventKind

logger = logging.getLogger(__name__)
EXECUTOR = Actor.system(source=Source.TASK, label="action-runner")
FAILED_STEP = (StepStatus.FAILED, StepStatus.TIMED_OUT)


@dataclass
class Failure:
    step: str
    status: str
    message: str


@dataclass
class Outcome:
    unhandled: list[Failure] = field(default_factory=list)
    cancelled: bool = False


def action_run_execute(*, run_id: int, task_id: str, requested: ActionRun | None = None) -> ActionRun | None:
    """Entry point of the execute task. A run that is no longer scheduled under this task id (a
    duplicate or stale message, a cancelled run) is left alone.

    `requested`: the caller's own instance of the run, as it requested it and committed it (alert
    processing starts its first immediate run itself). It is started by one conditional UPDATE,
    which locks the row and checks its state as the locking read does, instead of that read and a
    save of every column; the instance, its action and incident, are what the row holds."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        # Lost in a crash, the run is scheduled again, for the sweeper to dispatch: nothing has run
        # yet, and each step's row commits durably before its command starts (common.commit_flush).
        commit_without_flush_wait(outermost=outermost)
        run = _requested_start(requested, task_id) if requested is not None else _start(run_id, task_id)
        if run is None:
            return None
        run_event_record(
            run=run,
            kind=EventKind.ACTION_STARTED,
            by=EXECUTOR,
            message=f"{run.action.name} (run #{run.pk}) started.",
        )

    outcome = _execute_steps(run)
    return _finish(run=run, outcome=outcome)


def _start(run_id: int, task_id: str) -> ActionRun | None:
    run = (
        ActionRun.objects.select_for_update(of=("self",))
        .select_related("action", "incident")
        .filter(pk=run_id)
        .first()
    )
    if run is None or run.status != RunStatus.SCHEDULED or run.task_id != task_id:
        return None
    if run.due_at and run.due_at > timezone.now():
        return None  # Early delivery; the sweeper dispatches it again once due.
    run.start()
    run.started_at = timezone.now()
    run.save()
    return run


def _requested_start(run: ActionRun, task_id: str) -> ActionRun | None:
    """Start the caller's instance of a run if its row is still scheduled under this task id and
    due: the same checks as `_start`, made by the UPDATE's WHERE under the row lock it takes (a
    concurrent start waits for it, then finds the run running and changes nothing)."""
    now = timezone.now()
    started = (
        ActionRun.objects.filter(pk=run.pk, status=RunStatus.SCHEDULED, task_id=task_id)
        .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
        .update(status=RunStatus.RUNNING, started_at=now, updated_at=now)
    )
    if not started:
        return None
    run.start()  # The same transition on the instance, which holds what the row did.
    run.started_at = run.updated_at = now
    return run


def _finish(*, run: ActionRun, outcome: Outcome) -> ActionRun | None:
    with transaction.atomic():
        locked = (
            ActionRun.objects.select_for_update(of=("self",))
            .select_related("action", "incident")
            .get(pk=run.pk)
        )
        if locked.status != RunStatus.RUNNING:
            return None  # Abandoned by the sweeper meanwhile: its verdict stands.
        if outcome.cancelled:
            locked.cancel()
            locked.error = f"Cancelled by {locked.cancelled_by or 'a user'} while running."
        elif outcome.unhandled:
            first = outcome.unhandled[0]
            (locked.time_out if first.status == StepStatus.TIMED_OUT else locked.fail)()
            locked.error = "; ".join(f"{f.step}: {f.message}" for f in outcome.unhandled)
        else:
            locked.succeed()
        locked.finished_at = timezone.now()
        locked.save()
        run_event_record(
            run=locked,
            kind=EventKind.ACTION_FINISHED,
            by=EXECUTOR,
            message=f"{locked.action.name} (run #{locked.pk}) {locked.get_status_display().lower()}"
            + (f": {locked.error}" if locked.error else "."),
            details={"status": locked.status, "duration_seconds": round(locked.duration.total_seconds(), 3)},
        )
        transaction.on_commit(lambda: run_finished.send(sender=ActionRun, run=locked))
    return locked


def _condition_met(condition: str, previous_ok: bool | None) -> bool:
    if condition == StepCondition.PREVIOUS_SUCCESS:
        return previous_ok is True
    if condition == StepCondition.PREVIOUS_FAILURE:
        return previous_ok is False
    return True


class RunnerPool:
    """One connected runner per provider for the whole run, so later steps reuse the connection."""

    def __init__(self) -> None:
        self._runners: dict[int, Runner] = {}
        self._lock = threading.Lock()

    def get(self, provider: Provider) -> Runner:
        with self._lock:
            runner = self._runners.get(provider.pk)
        if runner is None:
            runner = runner_for(provider)
            runner.connect()
            with self._lock:
                self._runners[provider.pk] = runner
        return runner

    def discard(self, provider: Provider) -> None:
        with self._lock:
            runner = self._runners.pop(provider.pk, None)
        if runner is not None:
            runner.close()

    def close(self) -> None:
        with self._lock:
            runners, self._runners = list(self._runners.values()), {}
        for runner in runners:
            runner.close()


def _cancel_requested(run_id: int) -> bool:
    return ActionRun.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists()


def _execute_steps(run: ActionRun) -> Outcome:
    steps = run_planned_steps(run)
    outcome = Outcome()
    if not run.snapshot:
        outcome.unhandled.append(Failure(step="run", status=StepStatus.FAILED, message=LEGACY_ERROR))
    pool = RunnerPool()
    writes = StepWrites(run_id=run.pk)
    previous_ok: bool | None = None
    try:
        for index, step in enumerate(steps):
            if outcome.cancelled or _cancel_requested(run.pk):
                outcome.cancelled = True
                for rest in steps[index:]:
                    _record_step(run, rest, StepStatus.CANCELLED, error="The run was cancelled.")
                break
            if not _condition_met(step.condition, previous_ok):
                _record_step(
                    run, step, StepStatus.SKIPPED, error=f"Condition not met: {step.get_condition_display()}."
                )
                continue
            error = step.error or unsafe_placement_error(step.template)
            if error:
                _record_step(run, step, StepStatus.FAILED, error=error)
                statuses = [StepStatus.FAILED]
                message = error
            else:
                hosts, refused = _hosts(step)
                results = [
                    _record_step(run, step, StepStatus.FAILED, error=why, host=planned, provider=provider)
                    for planned, provider, why in refused
                ]
                if hosts:
                    results += _run_on_hosts(run, step, hosts, step.command, pool, writes)
                statuses = [r.status for r in results]
                message = _summary(results)
            if StepStatus.CANCELLED in statuses:
                outcome.cancelled = True
            step_ok = _step_ok(step, statuses)
            if step_ok:
                if step.condition == StepCondition.PREVIOUS_FAILURE and outcome.unhandled:
                    outcome.unhandled.pop()  # The failure this step answered is handled.
            elif not outcome.cancelled:
                worst = StepStatus.TIMED_OUT if StepStatus.TIMED_OUT in statuses else StepStatus.FAILED
                outcome.unhandled.append(Failure(step=step.name, status=worst, message=message))
            previous_ok = step_ok
    finally:
        pool.close()
    return outcome


def _hosts(step: PlannedStep) -> tuple[list[Provider], list[tuple[PlannedHost, Provider | None, str]]]:
    """The snapshot's hosts that still exist, are enabled and are where they were when the run was
    approved; the others, with the reason, are refused rather than run somewhere else."""
    providers = Provider.objects.in_bulk([h.provider_id for h in step.hosts])
    hosts, refused = [], []
    for planned in step.hosts:
        provider = providers.get(planned.provider_id)
        if provider is None:
            refused.append(
                (planned, None, f"Provider {planned.host} was deleted after the run was requested.")
            )
        elif not provider.enabled:
            refused.append((planned, provider, f"Provider {provider.name} is disabled."))
        elif provider.label != planned.host:
            why = f"Provider {provider.name} changed after the run was requested: it was {planned.host}."
            refused.append((planned, provider, why))
        else:
            hosts.append(provider)
    return hosts, refused


def _step_ok(step: PlannedStep, statuses: list[str]) -> bool:
    if step.failure_policy == FailurePolicy.CONTINUE_ON_PARTIAL:
        return StepStatus.SUCCEEDED in statuses
    return all(s == StepStatus.SUCCEEDED for s in statuses)


def _summary(results: list[StepRun]) -> str:
    failed = [r for r in results if r.status != StepStatus.SUCCEEDED]
    if not failed:
        return "succeeded"
    parts = []
    for r in failed[:5]:
        detail = r.error or (
            f"exit {r.exit_code}" if r.exit_code is not None else r.get_status_display().lower()
        )
        parts.append(f"{r.host}: {detail}")
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    return f"{len(failed)} of {len(results)} host(s) failed ({'; '.join(parts)}{more})"


def _record_step(
    run: ActionRun,
    step: PlannedStep,
    status: str,
    *,
    error: str = "",
    host: PlannedHost | None = None,
    provider: Provider | None = None,
) -> StepRun:
    now = timezone.now()
    return StepRun.objects.create(
        run=run,
        step_id=step.step_id,
        step_order=step.order,
        step_name=step.name,
        provider=provider,
        host=host.host if host else "",
        status=status,
        started_at=now,
        finished_at=now,
        error=error,
    )


def _run_on_hosts(
    run: ActionRun,
    step: PlannedStep,
    hosts: list[Provider],
    command: str,
    pool: RunnerPool,
    writes: StepWrites,
) -> list[StepRun]:
    if len(hosts) == 1:
        return [_run_on_host(run, step, hosts[0], command, pool, writes)]
    limit = min(step.max_parallel or 1, settings.ACTION_MAX_PARALLEL_HOSTS)

    def work(provider: Provider) -> StepRun:
        try:
            return _run_on_host(run, step, provider, command, pool, writes)
        finally:
            connection.close()  # Only if something did open one: the writes are the run thread's.

    # The pool threads hand their database writes to this thread (StepWrites), which makes them
    # while it waits: no host opens a connection of its own.
    with ThreadPoolExecutor(max_workers=max(1, limit), thread_name_prefix=f"run{run.pk}") as executor:
        futures = [executor.submit(work, provider) for provider in hosts]
        writes.serve(futures)
        return [future.result() for future in futures]


def _run_on_host(
    run: ActionRun,
    step: PlannedStep,
    provider: Provider,
    command: str,
    pool: RunnerPool,
    writes: StepWrites,
) -> StepRun:
    step_run = StepRun(
        run=run,
        step_id=step.step_id,
        step_order=step.order,
        step_name=step.name,
        provider=provider,
        host=provider.label,
        command=command,
        status=StepStatus.RUNNING,
        attempts=1,
        started_at=timezone.now(),
    )
    writes.create(step_run)
    output = StepOutput(step_run_id=step_run.pk, writes=writes, cap=settings.ACTION_OUTPUT_CAP_BYTES)
    status, exit_code, error = StepStatus.FAILED, None, ""
    attempts = step.retries + 1
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            step_run.attempts = attempt
            writes.update(step_run.pk, {"attempts": attempt})
            output.note(f"--- attempt {attempt} of {attempts} ---\n")
        error = ""
        try:
            result = pool.get(provider).run(command, timeout=step.timeout_seconds, sink=output)
        except RunnerError as exc:
            pool.discard(provider)  # Reconnect on the next attempt.
            status, exit_code, error = StepStatus.FAILED, None, f"{exc.code}: {exc.message}"
        else:
            exit_code = result.exit_code
            if result.cancelled:
                status, error = StepStatus.CANCELLED, "Cancelled while running; the command was killed."
                break
            if result.timed_out:
                status, error = StepStatus.TIMED_OUT, f"Killed after the {step.timeout_seconds} s timeout."
            elif exit_code == 0:
                status = StepStatus.SUCCEEDED
                break
            else:
                status = StepStatus.FAILED
        if attempt < attempts and _wait_or_cancel(output, step.retry_delay_seconds):
            status, error = StepStatus.CANCELLED, "Cancelled between attempts."
            break
    # One write for the result and the last of the output: fifty hosts finish at once.
    final = {**output.fields(), "status": status, "exit_code": exit_code, "error": error}
    final["finished_at"] = timezone.now()
    writes.update(step_run.pk, final)
    for name, value in final.items():
        setattr(step_run, name, value)
    return step_run


def _wait_or_cancel(output: StepOutput, seconds: int) -> bool:
    """Sleep between attempts; True if the run was cancelled meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if output.cancelled():
            return True
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    return output.cancelled()


def run_time_budget(run: ActionRun) -> int:
    """The longest a run can legitimately take, in seconds: every step's worst case, groups in
    batches of their parallelism. The abandoned-run sweeper allows this plus a margin."""
    total = 0
    for data in (run.snapshot or {}).get("steps", []):
        step = PlannedStep.from_snapshot(data)
        limit = max(1, min(step.max_parallel or 1, settings.ACTION_MAX_PARALLEL_HOSTS))
        total += step.worst_case_seconds * math.ceil(max(1, len(step.hosts)) / limit)
    return total
