"""The executor on the worker's own machine (local provider): order, conditions, retries, timeouts,
output, cancellation, incident timeline. SSH specifics are in test_runner_ssh.py."""

import os
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from actions.choices import (
    FailurePolicy,
    ProviderKind,
    Risk,
    RunStatus,
    StepCondition,
    StepStatus,
    TargetKind,
)
from actions.models import ActionRun, Provider, ProviderGroup, StepRun
from actions.services import (
    action_run_approve,
    action_run_cancel,
    action_run_execute,
    action_run_request,
    action_runs_sweep,
    action_save,
)
from common.actor import Actor, Source
from incidents.choices import EventKind

SYSTEM = Actor.system(source=Source.TASK, label="tests")


def in_thread(fn):
    """A worker thread's own database connection must be closed when it is done."""

    def run(**kwargs):
        try:
            fn(**kwargs)
        finally:
            connection.close()

    return run


@pytest.fixture(autouse=True)
def _local_allowed(settings):
    settings.ALLOW_LOCAL_PROVIDER = True


@pytest.fixture
def local(db) -> Provider:
    return Provider.objects.create(name="here", kind=ProviderKind.LOCAL)


def make_action(local, *steps, parameters=None, risk=Risk.LOW, name="Remedy"):
    specs = []
    for i, step in enumerate(steps, start=1):
        spec = {
            "name": f"step {i}",
            "target_kind": TargetKind.PROVIDER,
            "provider": local,
            "timeout_seconds": 10,
        }
        spec.update(step if isinstance(step, dict) else {"command": step})
        specs.append(spec)
    return action_save(
        by=SYSTEM, data={"name": name, "parameters": parameters or [], "risk": risk}, steps=specs
    )


def execute(action, *, parameters=None, incident=None, by=SYSTEM):
    run = action_run_request(action=action, by=by, parameters=parameters or {}, incident=incident)
    assert run.status == RunStatus.SCHEDULED
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    return ActionRun.objects.get(pk=run.pk)


def step_runs(run):
    return list(run.step_runs.order_by("step_order", "id"))


def test_steps_run_in_order_and_the_run_succeeds(local):
    run = execute(make_action(local, "echo one", "echo two >&2", "echo three"))

    assert run.status == RunStatus.SUCCEEDED
    assert run.started_at <= run.finished_at
    assert [(s.step_name, s.status, s.exit_code) for s in step_runs(run)] == [
        ("step 1", StepStatus.SUCCEEDED, 0),
        ("step 2", StepStatus.SUCCEEDED, 0),
        ("step 3", StepStatus.SUCCEEDED, 0),
    ]
    first, second, _ = step_runs(run)
    assert first.stdout == "one\n"
    assert second.stderr == "two\n"
    assert first.attempts == 1


def test_a_failing_step_fails_the_run_and_skips_what_needs_success(local):
    run = execute(
        make_action(
            local,
            "exit 3",
            {"command": "echo restart", "condition": StepCondition.PREVIOUS_SUCCESS},
            {"command": "echo collect logs", "condition": StepCondition.ALWAYS},
        )
    )
    assert run.status == RunStatus.FAILED
    assert [s.status for s in step_runs(run)] == [StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.SUCCEEDED]
    assert step_runs(run)[0].exit_code == 3
    assert "step 1" in run.error


def test_a_failure_answered_by_a_previous_failure_step_is_handled(local):
    # The runbook's memory cleanup: a check fails, so the restart runs; the restart works.
    run = execute(
        make_action(
            local,
            "echo memory high; exit 1",
            {"command": "echo restarting", "condition": StepCondition.PREVIOUS_FAILURE},
        )
    )
    assert run.status == RunStatus.SUCCEEDED
    assert [s.status for s in step_runs(run)] == [StepStatus.FAILED, StepStatus.SUCCEEDED]


def test_previous_failure_step_is_skipped_after_a_success(local):
    run = execute(make_action(local, "true", {"command": "echo never", "condition": "previous_failure"}))
    assert [s.status for s in step_runs(run)] == [StepStatus.SUCCEEDED, StepStatus.SKIPPED]
    assert run.status == RunStatus.SUCCEEDED


def test_retries_until_success_and_counts_attempts(local, tmp_path):
    counter = tmp_path / "n"
    # Fails twice, then succeeds: the counter file grows by one line per attempt.
    command = f"echo x >> {counter}; test $(wc -l < {counter}) -ge 3"
    run = execute(make_action(local, {"command": command, "retries": 3, "retry_delay_seconds": 0}))

    [step] = step_runs(run)
    assert (step.status, step.attempts) == (StepStatus.SUCCEEDED, 3)
    assert "attempt 3 of 4" in step.stdout
    assert run.status == RunStatus.SUCCEEDED


def test_retries_exhausted_fail_the_step(local):
    run = execute(make_action(local, {"command": "exit 2", "retries": 2, "retry_delay_seconds": 0}))
    [step] = step_runs(run)
    assert (step.status, step.attempts, step.exit_code) == (StepStatus.FAILED, 3, 2)
    assert run.status == RunStatus.FAILED


def test_a_timeout_kills_the_command_and_keeps_its_output(local):
    run = execute(make_action(local, {"command": "echo started; sleep 30", "timeout_seconds": 1}))
    [step] = step_runs(run)
    assert step.status == StepStatus.TIMED_OUT
    assert step.stdout.startswith("started")
    assert run.status == RunStatus.TIMED_OUT
    assert step.duration < timedelta(seconds=20)


def test_output_is_capped_and_flagged(local, settings):
    settings.ACTION_OUTPUT_CAP_BYTES = 1000
    run = execute(make_action(local, "head -c 5000 /dev/zero | tr '\\0' a"))
    [step] = step_runs(run)
    assert len(step.stdout) == 1000
    assert step.stdout_truncated is True
    assert step.stderr_truncated is False
    assert run.status == RunStatus.SUCCEEDED


def test_parameters_reach_the_command_quoted(local, tmp_path):
    marker = tmp_path / "pwned"
    action = make_action(
        local,
        "printf '%s' {{ params.service }}",
        parameters=[{"name": "service", "required": True}],
    )
    value = f"nginx; touch {marker}"
    run = execute(action, parameters={"service": value})
    assert step_runs(run)[0].stdout == value
    assert not marker.exists()


def test_incident_values_reach_the_command_and_the_timeline(local, open_incident, actor):
    incident = open_incident()
    action = make_action(local, "echo {{ incident.reference }}")
    run = execute(action, incident=incident, by=actor)

    assert step_runs(run)[0].stdout == f"{incident.reference}\n"
    kinds = list(incident.timeline_events.values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.ACTION_REQUESTED, EventKind.ACTION_STARTED, EventKind.ACTION_FINISHED]
    finished = incident.timeline_events.get(kind=EventKind.ACTION_FINISHED)
    assert finished.details["status"] == RunStatus.SUCCEEDED
    assert finished.details["action_run"] == run.pk


def test_a_disabled_provider_fails_the_step_with_a_clear_error(local):
    action = make_action(local, "true")
    Provider.objects.filter(pk=local.pk).update(enabled=False)
    run = execute(action)
    assert run.status == RunStatus.FAILED
    assert "disabled" in step_runs(run)[0].error


def test_local_provider_refused_when_not_allowed(local, settings):
    action = make_action(local, "true")
    settings.ALLOW_LOCAL_PROVIDER = False
    run = execute(action)
    [step] = step_runs(run)
    assert step.status == StepStatus.FAILED
    assert step.error.startswith("not_allowed")


def test_trigger_target_resolves_the_host_from_a_parameter(local):
    Provider.objects.filter(pk=local.pk).update(address="10.1.2.3")
    action = make_action(
        local,
        {
            "command": "echo on target",
            "target_kind": TargetKind.TRIGGER,
            "provider": None,
            "target_parameter": "instance",
        },
        parameters=[{"name": "instance", "required": True}],
    )
    run = execute(action, parameters={"instance": "10.1.2.3:9100"})
    assert step_runs(run)[0].provider_id == local.pk
    assert run.status == RunStatus.SUCCEEDED

    run = execute(action, parameters={"instance": "unknown-host:9100"})
    assert run.status == RunStatus.FAILED
    assert "unknown-host" in step_runs(run)[0].error


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


@pytest.mark.django_db(transaction=True)
def test_a_group_step_runs_on_every_host_in_parallel_and_records_each(settings):
    settings.ALLOW_LOCAL_PROVIDER = True
    hosts = [
        Provider.objects.create(name=f"node-{i}", kind=ProviderKind.LOCAL, tags=["web"]) for i in range(4)
    ]
    group = ProviderGroup.objects.create(name="web nodes", tag_selector=["web"], max_parallel=4)
    action = action_save(
        by=SYSTEM,
        data={"name": "Fan out"},
        steps=[
            {"name": "sleep", "target_kind": TargetKind.GROUP, "provider_group": group, "command": "sleep 1"},
        ],
    )
    run = action_run_request(action=action, by=SYSTEM)
    action_run_execute(run_id=run.pk, task_id=run.task_id)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    results = step_runs(run)
    assert sorted(s.provider_id for s in results) == sorted(h.pk for h in hosts)
    # In parallel: every host had started before the first one finished its one-second sleep.
    assert max(s.started_at for s in results) < min(s.finished_at for s in results)


@pytest.mark.django_db(transaction=True)
def test_partial_failure_policy(settings, tmp_path):
    settings.ALLOW_LOCAL_PROVIDER = True
    a = Provider.objects.create(name="a", kind=ProviderKind.LOCAL)
    b = Provider.objects.create(name="b", kind=ProviderKind.LOCAL)
    group = ProviderGroup.objects.create(name="pair", max_parallel=2)
    group.providers.set([a, b])
    # Fails on the first host to take the lock file, succeeds on the other.
    command = f"mkdir {tmp_path / 'lock'} 2>/dev/null && exit 1 || exit 0"
    for policy, expected in (
        (FailurePolicy.ALL_MUST_SUCCEED, RunStatus.FAILED),
        (FailurePolicy.CONTINUE_ON_PARTIAL, RunStatus.SUCCEEDED),
    ):
        (tmp_path / "lock").exists() and (tmp_path / "lock").rmdir()
        action = action_save(
            by=SYSTEM,
            data={"name": f"Pair {policy}"},
            steps=[
                {
                    "name": "x",
                    "target_kind": TargetKind.GROUP,
                    "provider_group": group,
                    "command": command,
                    "failure_policy": policy,
                }
            ],
        )
        run = action_run_request(action=action, by=SYSTEM)
        action_run_execute(run_id=run.pk, task_id=run.task_id)
        run.refresh_from_db()
        assert sorted(s.status for s in step_runs(run)) == [StepStatus.FAILED, StepStatus.SUCCEEDED]
        assert run.status == expected


def test_a_delayed_run_that_needs_approval_keeps_its_due_time(local, user_factory):
    requester = Actor(user=user_factory(groups=["Responder"]), source=Source.API)
    approver = Actor(user=user_factory(groups=["Approver"]), source=Source.API)
    due = timezone.now() + timedelta(minutes=10)
    action = make_action(local, "true", risk=Risk.HIGH)
    run = action_run_request(action=action, by=requester, due_at=due)

    run = action_run_approve(run=run, by=approver)
    assert (run.status, run.due_at) == (RunStatus.SCHEDULED, due)
    assert action_run_execute(run_id=run.pk, task_id=run.task_id) is None  # Not due yet.
