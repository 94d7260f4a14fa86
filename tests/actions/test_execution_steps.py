"""The executor on the worker's own machine (local provider), step by step: order, conditions,
retries, timeouts, output, parameters, incident values, providers and targets. SSH specifics are in
test_runner_ssh.py and test_execution_ssh.py."""

from datetime import timedelta

from actions.choices import RunStatus, StepCondition, StepStatus, TargetKind
from actions.models import Provider
from incidents.choices import EventKind
from tests.actions.execution_support import execute, make_action, step_runs


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
