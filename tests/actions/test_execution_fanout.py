"""A group step's hosts on pool threads hand their database writes to the run's thread
(actions.services.step_writes): rows, process groups and output still appear while the commands
run, a cancel still reaches every host, and no pool thread opens a connection of its own."""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.utils import timezone

from actions.choices import ProviderKind, RunStatus, StepStatus, TargetKind
from actions.models import ActionRun, Provider, ProviderGroup, StepRun
from actions.services import action_run_cancel, action_run_execute, action_run_request, action_save
from actions.services.step_writes import StepWriteError, StepWrites
from tests.actions.execution_support import SYSTEM, in_thread, step_runs

pytestmark = pytest.mark.django_db(transaction=True)
HOSTS = 3


def wait_for(condition, what: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def group(settings):
    settings.ALLOW_LOCAL_PROVIDER = True
    group = ProviderGroup.objects.create(name="nodes", max_parallel=HOSTS)
    group.providers.set(
        [Provider.objects.create(name=f"node-{i}", kind=ProviderKind.LOCAL) for i in range(HOSTS)]
    )
    return group


@pytest.fixture
def connections_opened():
    """Names of the threads that opened a database connection meanwhile."""
    names = []

    def record(sender, connection, **kwargs):
        names.append(threading.current_thread().name)

    connection_created.connect(record)
    yield names
    connection_created.disconnect(record)


def test_progress_shows_while_the_hosts_run_and_a_cancel_stops_them_all(group, tmp_path, connections_opened):
    action = action_save(
        by=SYSTEM,
        data={"name": "Fan out"},
        steps=[
            {
                "name": "wait",
                "target_kind": TargetKind.GROUP,
                "provider_group": group,
                "command": f"echo started; echo $$ >> {tmp_path / 'pids'}; sleep 60",
                "timeout_seconds": 120,
            }
        ],
    )
    run = action_run_request(action=action, by=SYSTEM)
    worker = threading.Thread(
        target=in_thread(action_run_execute),
        kwargs={"run_id": run.pk, "task_id": run.task_id},
        name="executor",
    )
    worker.start()

    # While the commands run: a row per host, its process group, and the output so far.
    running = wait_for(
        lambda: (
            rows
            if len(
                rows := list(StepRun.objects.filter(run=run, process_group__isnull=False, stdout="started\n"))
            )
            == HOSTS
            else None
        ),
        "every host's process group and output",
    )
    assert {r.status for r in running} == {StepStatus.RUNNING}
    pids = [int(line) for line in (tmp_path / "pids").read_text().split()]

    action_run_cancel(run=ActionRun.objects.get(pk=run.pk), by=SYSTEM)
    worker.join(timeout=30)
    assert not worker.is_alive()

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert [s.status for s in step_runs(run)] == [StepStatus.CANCELLED] * HOSTS
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not [name for name in connections_opened if name.startswith(f"run{run.pk}")]


def test_every_host_is_recorded_once_with_its_result(group, connections_opened):
    action = action_save(
        by=SYSTEM,
        data={"name": "Quick"},
        steps=[
            {"name": "a", "target_kind": TargetKind.GROUP, "provider_group": group, "command": "echo one"},
            {"name": "b", "target_kind": TargetKind.GROUP, "provider_group": group, "command": "exit 3"},
        ],
    )
    run = action_run_request(action=action, by=SYSTEM)
    action_run_execute(run_id=run.pk, task_id=run.task_id)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    rows = step_runs(run)
    assert [(r.step_name, r.status, r.exit_code, r.stdout) for r in rows] == [
        ("a", StepStatus.SUCCEEDED, 0, "one\n")
    ] * HOSTS + [("b", StepStatus.FAILED, 3, "")] * HOSTS
    assert all(r.started_at <= r.finished_at and r.attempts == 1 for r in rows)
    assert not [name for name in connections_opened if name.startswith(f"run{run.pk}")]


def test_a_failed_write_fails_the_waiting_hosts_and_is_raised_on_the_run_thread(group):
    action = action_save(
        by=SYSTEM,
        data={"name": "Unused"},
        steps=[{"name": "x", "target_kind": TargetKind.GROUP, "provider_group": group, "command": "true"}],
    )
    run = action_run_request(action=action, by=SYSTEM)
    writes = StepWrites(run_id=run.pk)
    started = timezone.now()

    def host(n: int) -> int:
        try:
            # The second host's row names a run that does not exist: its batch cannot commit.
            row = StepRun(
                run_id=run.pk + 1000 if n == 1 else run.pk, step_order=1, step_name="x", started_at=started
            )
            return writes.create(row).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=HOSTS) as pool:
        futures = [pool.submit(host, n) for n in range(HOSTS)]
        with pytest.raises(StepWriteError):
            writes.serve(futures)

    assert futures[1].exception() is not None
    created = [f.result() for f in futures if f.exception() is None]
    assert sorted(StepRun.objects.values_list("pk", flat=True)) == sorted(created)
    # Whatever a pool thread asks afterwards fails too: its runner kills its command and stops.
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(StepWriteError):
        pool.submit(writes.cancelled).result()
