"""A run started from the requester's own instance (alert processing starts its first immediate run
itself): one conditional UPDATE instead of a locking read and a save of every column, with the
same refusals as the execute task's start: a run no longer scheduled under that task id, or not
yet due, is left alone, and a run starts once whoever starts it."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions.choices import RunStatus, StepStatus
from actions.models import ActionRun
from actions.services import action_run_cancel, action_run_execute, action_run_request
from incidents.choices import EventKind
from tests.actions.execution_support import SYSTEM, make_action, step_runs


def test_the_requested_instance_starts_with_one_update_and_runs(local, open_incident):
    incident = open_incident()
    run = action_run_request(action=make_action(local, "echo one"), by=SYSTEM, incident=incident)

    with CaptureQueriesContext(connection) as queries:
        done = action_run_execute(run_id=run.pk, task_id=run.task_id, requested=run)

    assert done.status == RunStatus.SUCCEEDED
    assert [s.stdout for s in step_runs(done)] == ["one\n"]
    statements = [query["sql"] for query in queries.captured_queries]
    run_reads = [sql for sql in statements if sql.startswith("SELECT") and 'FROM "actions_actionrun"' in sql]
    start = next(sql for sql in statements if sql.startswith('UPDATE "actions_actionrun"'))
    # The reads of the run are the step loop's cancel check and the finish's locking read, not a start.
    assert statements.index(start) < statements.index(run_reads[0])
    assert '"snapshot"' not in start and '"status"' in start and '"task_id"' in start
    stored = ActionRun.objects.get(pk=run.pk)
    assert stored.started_at == done.started_at and stored.started_at is not None
    assert incident.timeline_events.filter(kind=EventKind.ACTION_STARTED).count() == 1


def test_a_run_cancelled_since_its_request_is_left_alone(local):
    run = action_run_request(action=make_action(local, "echo never"), by=SYSTEM)
    action_run_cancel(run=run, by=SYSTEM)  # The requester's instance still says scheduled.

    assert action_run_execute(run_id=run.pk, task_id=run.task_id, requested=run) is None

    stored = ActionRun.objects.get(pk=run.pk)
    assert stored.status == RunStatus.CANCELLED and stored.started_at is None
    assert step_runs(stored) == []


def test_a_run_its_message_started_first_runs_once(local):
    run = action_run_request(action=make_action(local, "echo once"), by=SYSTEM)
    action_run_execute(run_id=run.pk, task_id=run.task_id)  # Its message, on another worker.

    assert action_run_execute(run_id=run.pk, task_id=run.task_id, requested=run) is None

    assert [s.status for s in step_runs(ActionRun.objects.get(pk=run.pk))] == [StepStatus.SUCCEEDED]


def test_another_task_id_or_a_run_not_yet_due_is_left_alone(local):
    action = make_action(local, "echo later")
    run = action_run_request(action=action, by=SYSTEM)
    assert action_run_execute(run_id=run.pk, task_id="someone-else", requested=run) is None

    later = action_run_request(action=action, by=SYSTEM, due_at=timezone.now() + timedelta(minutes=5))
    assert action_run_execute(run_id=later.pk, task_id=later.task_id, requested=later) is None

    assert set(ActionRun.objects.values_list("status", flat=True)) == {RunStatus.SCHEDULED}
