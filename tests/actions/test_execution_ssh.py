"""Whole action runs against real OpenSSH servers on loopback: the product path the worker takes."""

import subprocess
import threading
import time

import pytest
from django.db import connection

from actions.choices import RunStatus, StepCondition, StepStatus, TargetKind
from actions.models import ActionRun, ProviderGroup
from actions.services import action_run_cancel, action_run_execute, action_run_request, action_save
from common.actor import Actor, Source
from tests.actions.sshd import program

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system(source=Source.TASK, label="tests")


def run_action(steps, *, name="Over SSH", parameters=None):
    action = action_save(by=SYSTEM, data={"name": name, "parameters": parameters or []}, steps=steps)
    run = action_run_request(action=action, by=SYSTEM)
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    return ActionRun.objects.get(pk=run.pk)


def results(run):
    return list(run.step_runs.order_by("step_order", "host", "id"))


def on(provider, command, **extra):
    return {
        "name": command[:40],
        "target_kind": TargetKind.PROVIDER,
        "provider": provider,
        "command": command,
        **extra,
    }


def test_conditions_retries_and_output_over_ssh(ssh_provider, tmp_path):
    host = ssh_provider()
    counter = tmp_path / "attempts"
    run = run_action(
        [
            on(host, "echo checking; exit 3"),
            on(host, "echo restart", condition=StepCondition.PREVIOUS_SUCCESS),
            on(host, "echo handling failure", condition=StepCondition.PREVIOUS_FAILURE),
            on(
                host,
                f"echo try >> {counter}; test $(wc -l < {counter}) -ge 2",
                retries=2,
                retry_delay_seconds=0,
            ),
        ]
    )

    statuses = [(r.status, r.exit_code, r.attempts) for r in results(run)]
    assert statuses == [
        (StepStatus.FAILED, 3, 1),
        (StepStatus.SKIPPED, None, 0),
        (StepStatus.SUCCEEDED, 0, 1),
        (StepStatus.SUCCEEDED, 0, 2),
    ]
    assert results(run)[2].stdout == "handling failure\n"
    assert run.status == RunStatus.SUCCEEDED  # The failed check was answered by its handler.


def test_a_group_of_hosts_runs_in_parallel_and_records_each_host(ssh_provider, sshd_factory):
    hosts = [ssh_provider(sshd_factory()) for _ in range(3)]
    group = ProviderGroup.objects.create(name="three", max_parallel=3)
    group.providers.set(hosts)

    run = run_action(
        [
            {
                "name": "fan out",
                "target_kind": TargetKind.GROUP,
                "provider_group": group,
                "command": "sleep 1; hostname",
            }
        ]
    )

    assert run.status == RunStatus.SUCCEEDED
    per_host = results(run)
    assert sorted(r.provider_id for r in per_host) == sorted(h.pk for h in hosts)
    assert all(r.status == StepStatus.SUCCEEDED and r.stdout for r in per_host)
    assert max(r.started_at for r in per_host) < min(r.finished_at for r in per_host)


def test_a_timeout_fails_the_run_and_kills_the_remote_command(ssh_provider, tmp_path):
    pidfile = tmp_path / "pid"
    run = run_action([on(ssh_provider(), f"echo $$ > {pidfile}; echo waiting; sleep 60", timeout_seconds=2)])

    [step] = results(run)
    assert (run.status, step.status) == (RunStatus.TIMED_OUT, StepStatus.TIMED_OUT)
    assert "waiting" in step.stdout
    assert not process_alive(int(pidfile.read_text()))


def test_a_changed_host_key_fails_the_step_without_running_it(ssh_provider, tmp_path):
    # The pinned key is not the one the server offers: as if the host had been replaced.
    impostor = ssh_provider(host_key=f"ssh-ed25519 {_other_key(tmp_path)}")
    marker = tmp_path / "ran"

    run = run_action([on(impostor, f"touch {marker}")])

    [step] = results(run)
    assert run.status == RunStatus.FAILED
    assert step.error.startswith("host_key_mismatch")
    assert not marker.exists()


def test_cancel_kills_the_remote_command_and_cancels_the_rest(ssh_provider, tmp_path):
    host = ssh_provider()
    pidfile = tmp_path / "pid"
    action = action_save(
        by=SYSTEM,
        data={"name": "Long"},
        steps=[on(host, f"echo $$ > {pidfile}; sleep 60", timeout_seconds=120), on(host, "echo after")],
    )
    run = action_run_request(action=action, by=SYSTEM)

    def work():
        try:
            action_run_execute(run_id=run.pk, task_id=run.task_id)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = int(pidfile.read_text())
    action_run_cancel(run=ActionRun.objects.get(pk=run.pk), by=SYSTEM)
    worker.join(timeout=60)

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert [r.status for r in results(run)] == [StepStatus.CANCELLED, StepStatus.CANCELLED]
    assert not process_alive(pid)


def process_alive(pid: int) -> bool:
    """sshd runs on this machine, so its children are ours to see; a zombie counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _other_key(tmp_path) -> str:
    path = tmp_path / "other_host_key"
    subprocess.run([program("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().split()[1]
