"""Fault test: the worker running a step is killed with SIGKILL (issue 10, item 18).

Real parts: Celery workers in processes of their own (prefork, as the Procfile runs them) on an
isolated broker (a folder, or a Redis key prefix on CI), beat with django-celery-beat's database
scheduler on a periodic worker, the local runner and the test sshd. The step's command leaves two
processes in its group; after the kill they run on, orphaned, until the sweep that abandons the run
kills the group. The message the dead worker held (redelivered at once when only the pool process
died, by Redis after its visibility timeout when the whole worker did) finds the run running and
does nothing: the step runs once."""

import os
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from actions.choices import RunStatus, StepStatus, TargetKind
from actions.models import ActionRun, Provider, StepRun
from actions.services import action_run_request, action_runs_sweep, action_save
from actions.tasks import execute_action_run
from common.actor import Actor, Source
from incidents.choices import EventKind
from incidents.models import TimelineEvent
from tests.conftest import celery_broker
from tests.worker_processes import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system(source=Source.TASK, label="tests")
# A background child and a foreground one: the whole group must go, not just its leader.
COMMAND = "sleep 60 & sleep 60; echo never"
STEP_TIMEOUT = 5
# The periodic worker's settings, short so the test is quick; the defaults are checked below.
MARGIN_SECONDS = 3
SWEEP_SECONDS = 1
# Beat's tick, a busy CI machine, SQLite's write lock: allowance on top of margin + sweep interval.
SLACK_SECONDS = 10


@pytest.fixture
def broker(tmp_path):
    """A broker for this test alone, that the test process publishes to and the workers consume."""
    if settings.REDIS_URL:
        prefix = f"mitigate-test-{uuid.uuid4().hex}:"
        options = {**settings.BROKER_FAIL_FAST, "global_keyprefix": prefix}
    else:
        folders = {name: tmp_path / "broker" / name for name in ("queue", "processed", "control")}
        for folder in folders.values():
            folder.mkdir(parents=True)
        options = {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "store_processed": False,
        }
    with celery_broker(settings.CELERY_BROKER_URL, options):
        yield options
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def workers(tmp_path, broker):
    started: list[Worker] = []

    def start(name: str, *args: str, env: dict | None = None) -> Worker:
        # Runs here execute on the local provider too.
        worker = Worker(tmp_path, broker, name, *args, env={"ALLOW_LOCAL_PROVIDER": "true", **(env or {})})
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    connections.close_all()


def actions_worker(workers) -> Worker:
    return workers("actions", "--queues", "actions", "--pool", "prefork", "--concurrency", "1")


def periodic_worker(workers) -> Worker:
    """The dedicated periodic worker with beat, as the README runs them in production."""
    return workers(
        "periodic",
        "--queues",
        settings.PERIODIC_QUEUE,
        "--pool",
        "solo",
        "--beat",
        "--scheduler",
        "django_celery_beat.schedulers:DatabaseScheduler",
        env={
            "ACTION_ABANDON_MARGIN_SECONDS": str(MARGIN_SECONDS),
            "ACTION_SWEEP_SECONDS": str(SWEEP_SECONDS),
        },
    )


def group_members(pgid: int) -> list[int]:
    """Live processes in the group (zombies nobody reaped are gone: a container may have no init)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def parent_of(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[1])


def request_run(provider: Provider, incident, *, timeout: int) -> ActionRun:
    step = {
        "name": "Hang",
        "target_kind": TargetKind.PROVIDER,
        "provider": provider,
        "command": COMMAND,
        "timeout_seconds": timeout,
    }
    action = action_save(by=SYSTEM, data={"name": "Slow fix", "parameters": []}, steps=[step])
    return action_run_request(action=action, by=SYSTEM, incident=incident)


def running_step(run: ActionRun) -> StepRun:
    """The step once its command runs with both its processes."""
    step_run = wait_for(
        lambda: StepRun.objects.filter(run=run, process_group__isnull=False).first(), "the step to start"
    )
    wait_for(lambda: len(group_members(step_run.process_group["pgid"])) >= 2, "both sleeps")
    return step_run


def assert_abandoned_in_time(run: ActionRun, pgid: int) -> ActionRun:
    run.refresh_from_db()
    # The worker never finishes it: the sweep on the periodic worker does, and kills the group.
    wait_for(
        lambda: ActionRun.objects.filter(pk=run.pk, status=RunStatus.ABANDONED).exists(),
        "the run to be abandoned",
        seconds=STEP_TIMEOUT + MARGIN_SECONDS + SWEEP_SECONDS + SLACK_SECONDS + 30,
    )
    run.refresh_from_db()
    late = (run.finished_at - run.started_at).total_seconds() - STEP_TIMEOUT
    print(f"abandoned {late:.1f} s after the timeout (margin {MARGIN_SECONDS} s, sweep {SWEEP_SECONDS} s)")
    assert MARGIN_SECONDS <= late <= MARGIN_SECONDS + SWEEP_SECONDS + SLACK_SECONDS
    wait_for(lambda: not group_members(pgid), "the group to die", seconds=5)
    assert f"Process groups: Hang on {run.step_runs.get().host}: killed process group {pgid}." in run.error
    event = TimelineEvent.objects.filter(kind=EventKind.ACTION_FINISHED).get()
    assert run.error in event.message
    assert event.details["processes"] == [f"Hang on {run.step_runs.get().host}: killed process group {pgid}"]
    step_run = run.step_runs.get()
    assert (step_run.status, step_run.error) == (StepStatus.FAILED, "The run was abandoned.")
    # One start, one step: nothing ran twice.
    assert TimelineEvent.objects.filter(kind=EventKind.ACTION_STARTED).count() == 1
    return run


def test_defaults_notice_a_dead_worker_within_a_minute_of_the_timeout():
    sweep = settings.CELERY_BEAT_SCHEDULE["actions-sweep"]["schedule"]
    assert settings.ACTION_ABANDON_MARGIN + sweep <= timedelta(seconds=60)


def test_worker_killed_mid_step_local(workers, local_provider, open_incident):
    periodic_worker(workers)
    worker = actions_worker(workers)
    run = request_run(local_provider, open_incident(), timeout=STEP_TIMEOUT)
    step_run = running_step(run)
    pgid = step_run.process_group["pgid"]
    members = group_members(pgid)

    worker.kill()
    time.sleep(1)
    assert group_members(pgid) == members, "the command runs on, orphaned"
    # The message the dead worker held comes back (Redis: after its visibility timeout): the run is
    # not scheduled any more, so it does nothing.
    assert execute_action_run.apply(kwargs={"run_id": run.pk}, task_id=run.task_id).get() is None
    assert StepRun.objects.filter(run=run).count() == 1

    assert_abandoned_in_time(run, pgid)


def test_pool_process_killed_mid_step_redelivery_runs_nothing(workers, local_provider, open_incident):
    """The OOM killer's choice: the pool process dies, the worker lives and (acks_late,
    reject_on_worker_lost) puts the message back at once; its second delivery must do nothing."""
    periodic_worker(workers)
    worker = actions_worker(workers)
    run = request_run(local_provider, open_incident(), timeout=STEP_TIMEOUT)
    step_run = running_step(run)
    pgid = step_run.process_group["pgid"]
    pool_process = parent_of(pgid)
    assert pool_process != worker.process.pid

    os.kill(pool_process, signal.SIGKILL)
    received = f"execute_action_run[{run.task_id}] received"
    wait_for(lambda: worker.log().count(received) == 2, "the message to be delivered again")
    wait_for(lambda: f"execute_action_run[{run.task_id}] succeeded" in worker.log(), "the second delivery")
    assert "WorkerLostError" in worker.log()
    assert StepRun.objects.filter(run=run).count() == 1

    assert_abandoned_in_time(run, pgid)


def test_worker_killed_mid_step_over_ssh_remote_group_killed_on_abandon(workers, ssh_provider, open_incident):
    """The host's `timeout` would end the command after the step's timeout; the sweep that abandons
    the run (here: told it is that late) kills the remote group over SSH without waiting for it."""
    provider = ssh_provider()
    worker = actions_worker(workers)
    run = request_run(provider, open_incident(), timeout=60)
    step_run = running_step(run)
    group = step_run.process_group
    pgid = group["pgid"]
    assert group["start"] is not None and "machine" not in group
    members = group_members(pgid)  # The test sshd runs on this machine: its processes are visible.

    worker.kill()
    time.sleep(1)
    assert group_members(pgid) == members, "the remote command runs on after the connection dropped"
    assert execute_action_run.apply(kwargs={"run_id": run.pk}, task_id=run.task_id).get() is None

    run.refresh_from_db()
    budget = timedelta(seconds=60) + settings.ACTION_ABANDON_MARGIN
    assert action_runs_sweep(now=run.started_at + budget - timedelta(seconds=1))["abandoned"] == 0
    assert group_members(pgid) == members
    assert action_runs_sweep(now=run.started_at + budget + timedelta(seconds=1))["abandoned"] == 1

    assert group_members(pgid) == []
    event = TimelineEvent.objects.filter(kind=EventKind.ACTION_FINISHED).get()
    where = f"{provider.address}:{provider.port}"
    assert f"killed process group {pgid} on {where}" in event.message
    assert TimelineEvent.objects.filter(kind=EventKind.ACTION_STARTED).count() == 1
