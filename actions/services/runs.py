"""Requesting, approving, rejecting, scheduling and cancelling action runs.

Every change locks the run row, checks it is still in the state the caller saw, applies the
django-fsm transition and, when the run belongs to an incident, writes the incident's timeline."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from actions.choices import Risk, RunStatus
from actions.models import Action, ActionRun
from actions.models.run import APPROVE_PERMISSION, RUN_PERMISSION
from actions.parameters import parameters_validate
from actions.services.snapshot import run_snapshot_build
from common.actor import Actor
from common.events import Happening, happening_publish
from common.exceptions import PermissionDeniedError, TransitionNotAllowedError
from common.fsm import locked_transition, row_lock
from common.tasks import enqueue_on_commit
from incidents.choices import EventKind
from incidents.models import Incident, Service
from incidents.services import timeline_event_record


def run_lock(*, run: ActionRun) -> ActionRun:
    """Reload the run under a row lock; a status other than the caller's is a lost race."""
    return row_lock(instance=run, related=("action", "incident"), stale=_stale)


def _stale(locked: ActionRun) -> str:
    return f"Run #{locked.pk} changed meanwhile: it is now {locked.get_status_display().lower()}."


def run_event_record(
    *, run: ActionRun, kind: EventKind, by: Actor, message: str, details: dict[str, Any] | None = None
) -> None:
    """Mirror a run's milestone on its incident's timeline (runs without an incident have none),
    and tell the apps above of it, incident or not (common.events)."""
    details = {"action_run": run.pk, "action": run.action.name, **(details or {})}
    if run.incident_id is not None:
        timeline_event_record(incident=run.incident, kind=kind, by=by, message=message, details=details)
    happening_publish(
        Happening(
            topic="run",
            kind=kind,
            by=by,
            at=timezone.now(),
            message=message,
            details=details,
            incident_id=run.incident_id,
            subject_id=run.pk,
        )
    )


def run_enqueue(run: ActionRun) -> None:
    """After commit, send the execute task under the run's task id: only that message may start it."""
    eta = run.due_at if run.due_at and run.due_at > timezone.now() else None
    enqueue_on_commit("actions.tasks.execute_action_run", task_id=run.task_id, eta=eta, run_id=run.pk)


def run_schedule(*, run: ActionRun, due_at: datetime | None = None) -> None:
    """Move a locked pending/approved run to scheduled and enqueue its task after commit. The task
    id is stored first, so a stale or duplicate message finds another id and does nothing."""
    _schedule(run, due_at)
    run.save()
    run_enqueue(run)


def _schedule(run: ActionRun, due_at: datetime | None) -> None:
    run.schedule()
    run.due_at = due_at or timezone.now()
    run.task_id = uuid.uuid4().hex


def action_run_request(
    *,
    action: Action,
    by: Actor,
    parameters: dict[str, Any] | None = None,
    incident: Incident | None = None,
    require_approval: bool = False,
    due_at: datetime | None = None,
    context: dict[str, Any] | None = None,
    automated: bool = False,
    capture_service: Service | None = None,
    enqueue: bool = True,
) -> ActionRun:
    """Ask for a run. High-risk actions and requests that ask for it wait for an approver;
    the rest are scheduled at once (or at `due_at`).

    The run's snapshot fixes now what it will execute (actions.services.snapshot) and why it needs
    approval; `context` adds what commands may name besides params.* and incident.* (alert.* for
    an automated response) and is stored on the run. `automated` marks a request made by automation
    rather than a person (the closed loop weighs only those); `capture_service` marks the state
    capture of that service when the incident opened (actions.services.capture).

    `enqueue=False`: a run scheduled at once gets no execute message; the caller starts it itself
    with action_run_execute once its transaction has committed (alert processing does, for its first
    immediate response). Should that caller die first, the sweeper dispatches the run (it is
    scheduled, its due time past)."""
    by.require(RUN_PERMISSION, "run actions")
    if not action.enabled:
        raise ValidationError({"action": [f"{action.name} is disabled."]})
    values = parameters_validate(action.parameters, parameters or {})
    if not action.steps.exists():
        raise ValidationError({"action": [f"{action.name} has no steps."]})
    reasons = []
    if action.risk == Risk.HIGH:
        reasons.append("The action is high-risk.")
    if require_approval:
        reasons.append("The request asked for an approver.")
    needs_approval = bool(reasons)

    with transaction.atomic():
        run = ActionRun(
            action=action,
            parameters=values,
            incident=incident,
            requested_by=by.user,
            requested_via=by.source,
            requested_label=by.label,
            require_approval=needs_approval,
            context=context or {},
            automated=automated,
            capture_service=capture_service,
            snapshot=run_snapshot_build(
                action=action, parameters=values, incident=incident, approval_reasons=reasons, context=context
            ),
        )
        # Its first state is decided before the row is written: one INSERT, not an INSERT and an
        # UPDATE (an immediate automated response is on the path from an alert to its first step).
        if needs_approval:
            run.request_approval()
            run.approval_expires_at = timezone.now() + settings.ACTION_APPROVAL_TTL
            run.due_at = due_at  # Kept for the approval: a delayed run stays delayed.
        else:
            _schedule(run, due_at)
        run.save(force_insert=True)
        run_event_record(
            run=run,
            kind=EventKind.ACTION_REQUESTED,
            by=by,
            message=f"Requested {action.name}" + (" (needs approval)." if needs_approval else "."),
            details={"parameters": values, "needs_approval": needs_approval},
        )
        if not needs_approval and enqueue:
            run_enqueue(run)
    return run


class _ApprovalExpiredError(Exception):
    """The approval window had passed when the decision came: the run expires instead."""


def _decide(
    *,
    run: ActionRun,
    by: Actor,
    comment: str,
    name: str,
    kind: EventKind,
    verb: str,
    after: Callable[[ActionRun], None] | None = None,
) -> ActionRun:
    by.require(APPROVE_PERMISSION, people_only=True, refusal=f"Only approvers may {verb} runs.")

    def refused(locked: ActionRun) -> TransitionNotAllowedError:
        return TransitionNotAllowedError(
            f"Run #{locked.pk} is {locked.get_status_display().lower()}: nothing to {verb}.",
            extra={"status": locked.status},
        )

    def not_expired(locked: ActionRun) -> None:
        if locked.approval_expires_at and locked.approval_expires_at <= timezone.now():
            raise _ApprovalExpiredError

    def apply(locked: ActionRun) -> None:
        locked.decided_by = by.user
        locked.decided_at = timezone.now()
        locked.decision_comment = (comment or "").strip()
        if after:
            after(locked)

    def record(locked: ActionRun, from_status: str) -> None:
        message = f"{verb.capitalize()}d {locked.action.name} (run #{locked.pk})"
        run_event_record(
            run=locked,
            kind=kind,
            by=by,
            message=message + (f": {locked.decision_comment}" if locked.decision_comment else "."),
            details={"comment": locked.decision_comment},
        )

    try:
        return locked_transition(
            instance=run,
            name=name,
            by=by,
            related=("action", "incident"),
            stale=_stale,
            refused=refused,
            denied=f"{verb} runs",
            before=not_expired,
            apply=apply,
            record=record,
        )
    except _ApprovalExpiredError:
        with transaction.atomic():
            locked = row_lock(instance=run, related=("action", "incident"))
            if locked.status == RunStatus.AWAITING_APPROVAL:  # Else the sweeper expired it meanwhile.
                run_expire_apply(run=locked, now=timezone.now())
        raise TransitionNotAllowedError(
            f"Run #{run.pk}'s approval window had passed: it has expired."
        ) from None


def action_run_approve(*, run: ActionRun, by: Actor, comment: str = "") -> ActionRun:
    """Four eyes: an approver other than the requester lets the run go ahead; it is scheduled."""
    if by.user is not None and run.requested_by_id == by.user.pk:
        raise PermissionDeniedError("You cannot approve your own request: another approver must.")
    return _decide(
        run=run,
        by=by,
        comment=comment,
        name="approve",
        kind=EventKind.ACTION_APPROVED,
        verb="approve",
        # Scheduled in the same save: the run goes approved -> scheduled at once.
        after=lambda locked: run_schedule(run=locked, due_at=locked.due_at),
    )


def action_run_reject(*, run: ActionRun, by: Actor, comment: str = "") -> ActionRun:
    def finish(locked: ActionRun) -> None:
        locked.finished_at = locked.decided_at

    return _decide(
        run=run,
        by=by,
        comment=comment,
        name="reject",
        kind=EventKind.ACTION_REJECTED,
        verb="reject",
        after=finish,
    )


def run_expire_apply(*, run: ActionRun, now: datetime) -> None:
    """Expire a locked run whose approval window has passed."""
    run.expire()
    run.finished_at = now
    run.error = "Nobody approved the run before its approval window closed."
    run.save()
    run_event_record(
        run=run,
        kind=EventKind.ACTION_EXPIRED,
        by=Actor.system(label="approval-expiry"),
        message=f"Approval for {run.action.name} (run #{run.pk}) expired unanswered.",
    )


def action_run_cancel(*, run: ActionRun, by: Actor) -> ActionRun:
    """Cancel a run. One that has not started is cancelled at once; a running one is flagged, and
    its executor kills the remote command and marks the remaining steps cancelled."""
    by.require(RUN_PERMISSION, "cancel action runs")
    with transaction.atomic():
        locked = run_lock(run=run)
        if not can_proceed(locked.cancel):
            raise TransitionNotAllowedError(
                f"Run #{locked.pk} is {locked.get_status_display().lower()}: there is nothing to cancel.",
                extra={"status": locked.status},
            )
        now = timezone.now()
        locked.cancelled_by = by.user
        if locked.status == RunStatus.RUNNING:
            if locked.cancel_requested_at is None:
                locked.cancel_requested_at = now
                locked.save(update_fields=["cancel_requested_at", "cancelled_by", "updated_at"])
            return locked
        locked.cancel()
        locked.cancel_requested_at = now
        locked.finished_at = now
        locked.error = f"Cancelled by {by} before it started."
        locked.save()
        run_event_record(
            run=locked,
            kind=EventKind.ACTION_FINISHED,
            by=by,
            message=f"{locked.action.name} (run #{locked.pk}) cancelled before it started.",
            details={"status": locked.status},
        )
    return locked
