"""A run's life on the local provider: stale tasks, approval and its expiry, the sweeper (abandoned
and lost runs), cancellation before and during the run."""

import os
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from actions.choices import ProviderKind, Risk, RunStatus, StepStatus
from actions.models import ActionRun, Provider, StepRun
from actions.services import (
    action_run_approve,
    action_run_cancel,
    action_run_execute,
    action_run_request,
    action_runs_sweep,
)
from common.actor import Actor, Source
from tests.actions.execution_support import SYSTEM, in_thread, make_action, step_runs


def test_a_stale_task_does_nothing(local):
    action = make_action(local, "echo once")
    run = action_run_request(action=action, by=SYSTEM)
    assert action_run_execute(run_id=run.pk, task_id="someone-else") is None
    assert ActionRun.objects.get(pk=run.pk).status == RunStatus.SCHEDULED
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    assert action_run_execute(run_id=run.pk, task_id=run.task_id) is None  # Redelivered message.
    assert ActionRun.objects.get(pk=run.pk).step_runs.count() == 1


def test_high_risk_runs_wait_for_approval_and_expire(local, settings):
    action = make_action(local, "true", risk=Risk.HIGH)
    run = action_run_request(action=action, by=SYSTEM)
    assert run.status == RunStatus.AWAITING_APPROVAL
    assert run.approval_expires_at == pytest.approx(
        run.created_at + settings.ACTION_APPROVAL_TTL, abs=timedelta(seconds=5)
    )

    assert action_runs_sweep(now=run.approval_expires_at - timedelta(seconds=1))["expired"] == 0
    assert action_runs_sweep(now=run.approval_expires_at)["expired"] == 1
    run.refresh_from_db()
    assert run.status == RunStatus.EXPIRED
    assert action_runs_sweep(now=run.approval_expires_at)["expired"] == 0


def test_the_sweeper_abandons_a_run_whose_worker_vanished(local, settings):
    settings.ACTION_ABANDON_MARGIN = timedelta(seconds=60)
    action = make_action(
        local, {"command": "true", "timeout_seconds": 30, "retries": 1, "retry_delay_seconds": 5}
    )
    run = action_run_request(action=action, by=SYSTEM)
    # The worker took the run and died before finishing it.
    ActionRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    budget = timedelta(seconds=30 * 2 + 5 + 60)

    assert action_runs_sweep(now=timezone.now() + budget - timedelta(seconds=5))["abandoned"] == 0
    assert action_runs_sweep(now=timezone.now() + budget + timedelta(seconds=1))["abandoned"] == 1
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED
    assert "longer than its steps' timeouts allow" in run.error
    assert action_runs_sweep(now=timezone.now() + budget * 2)["abandoned"] == 0


def test_abandoning_says_which_processes_it_could_not_kill(local, settings):
    from actions.runners.local import machine_id

    settings.ACTION_ABANDON_MARGIN = timedelta(seconds=30)
    action = make_action(local, {"command": "sleep 60", "timeout_seconds": 10})
    run = action_run_request(action=action, by=SYSTEM)
    ActionRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    common = {"run": run, "step": action.steps.get(), "step_order": 1, "step_name": "step 1"}
    # Started by a worker on another machine; on a provider deleted since.
    elsewhere = {"pgid": 4242, "start": 1, "machine": "worker-2/boot"}
    StepRun.objects.create(**common, provider=local, host="here", process_group=elsewhere)
    StepRun.objects.create(**common, provider=None, host="gone", process_group={"pgid": 99, "start": 1})

    assert action_runs_sweep(now=timezone.now() + timedelta(seconds=41))["abandoned"] == 1

    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED
    assert run.error.endswith(
        " Process groups: step 1 on here: process group 4242 was started on worker-2/boot, not on this "
        f"worker ({machine_id()}): not killed; step 1 on gone: process group 99 not killed, its "
        "provider was deleted."
    )
    assert set(run.step_runs.values_list("status", flat=True)) == {StepStatus.FAILED}


def test_the_sweeper_redispatches_a_scheduled_run_whose_message_was_lost(
    local, django_capture_on_commit_callbacks
):
    action = make_action(local, "true")
    with django_capture_on_commit_callbacks(execute=False) as first:
        run = action_run_request(action=action, by=SYSTEM)
    assert len(first) == 1
    with django_capture_on_commit_callbacks(execute=False) as again:
        counts = action_runs_sweep(now=run.due_at + timedelta(minutes=1))
    assert counts["dispatched"] == 1
    assert len(again) == 1


def test_cancelling_before_the_start(local):
    run = action_run_request(action=make_action(local, "true"), by=SYSTEM)
    run = action_run_cancel(run=run, by=SYSTEM)
    assert run.status == RunStatus.CANCELLED
    assert action_run_execute(run_id=run.pk, task_id=run.task_id) is None


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_run_kills_the_command_and_cancels_the_rest(tmp_path, settings):
    settings.ALLOW_LOCAL_PROVIDER = True
    local = Provider.objects.create(name="here", kind=ProviderKind.LOCAL)
    pidfile = tmp_path / "pid"
    action = make_action(
        local, {"command": f"echo $$ > {pidfile}; sleep 60", "timeout_seconds": 120}, "echo after"
    )
    run = action_run_request(action=action, by=SYSTEM)
    worker = threading.Thread(
        target=in_thread(action_run_execute), kwargs={"run_id": run.pk, "task_id": run.task_id}
    )
    worker.start()
    deadline = time.monotonic() + 20
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = int(pidfile.read_text())

    action_run_cancel(run=ActionRun.objects.get(pk=run.pk), by=SYSTEM)
    worker.join(timeout=30)

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert [s.status for s in step_runs(run)] == [StepStatus.CANCELLED, StepStatus.CANCELLED]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_delayed_run_that_needs_approval_keeps_its_due_time(local, user_factory):
    requester = Actor(user=user_factory(groups=["Responder"]), source=Source.API)
    approver = Actor(user=user_factory(groups=["Approver"]), source=Source.API)
    due = timezone.now() + timedelta(minutes=10)
    action = make_action(local, "true", risk=Risk.HIGH)
    run = action_run_request(action=action, by=requester, due_at=due)

    run = action_run_approve(run=run, by=approver)
    assert (run.status, run.due_at) == (RunStatus.SCHEDULED, due)
    assert action_run_execute(run_id=run.pk, task_id=run.task_id) is None  # Not due yet.
