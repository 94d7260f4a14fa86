"""The processing task carries out the first run an immediate response requests itself, once
processing has committed, instead of sending it to another worker: no execute message for that
run, the same exactly-once start (a duplicate or the sweeper's message does nothing), and messages
as before for the batch's other runs, for runs that wait for an approver, and inside someone else's
transaction. Only a worker that takes runs' messages carries one out."""

import base64
import json

import pytest
from django.db import transaction
from kombu.transport.memory import Channel

from actions.choices import Risk, RunStatus
from actions.models import ActionRun, StepRun
from actions.services import action_run_execute
from alerts.models import TriggeredRun
from alerts.services.processing import alerts_process
from alerts.tasks import process_alerts
from config.celery import app
from tests.alerts.support import am_alert, am_payload, ingest

pytestmark = pytest.mark.django_db(transaction=True)


def execute_messages() -> dict[str, int]:
    """The execute messages waiting in the tests' in-memory broker: task id -> run id."""
    queue = Channel.queues.get("actions")
    found = {}
    for message in list(queue.queue) if queue is not None else []:
        if message["headers"]["task"] == "actions.tasks.execute_action_run":
            _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
            found[message["headers"]["id"]] = kwargs["run_id"]
    return found


@pytest.fixture(autouse=True)
def _empty_actions_queue():
    Channel.queues.pop("actions", None)
    yield
    Channel.queues.pop("actions", None)


@pytest.fixture
def immediate(rule, runnable_action, local_provider):
    """A rule whose immediate response runs `echo ok` on the worker's machine."""
    action = runnable_action(name="Diagnose")
    rule(incident_policy="none", responses=[{"action": action}])
    return action


@pytest.fixture
def worker_queues():
    """The queues this process consumes, as `celery worker -Q` selects them (restored after)."""
    queues = app.amqp.queues
    saved = queues._consume_from

    def select(*names: str) -> None:
        queues.select(list(names))

    yield select
    queues._consume_from = saved


def run_of(alert) -> ActionRun:
    return TriggeredRun.objects.select_related("run").get(alert=alert).run


def test_the_task_carries_out_the_run_after_commit_and_sends_no_execute_message(
    source, immediate, worker_queues
):
    worker_queues("default", "actions")
    (alert,) = ingest(source, am_payload(am_alert()))

    assert process_alerts(alert_ids=[alert.pk]) == 1

    run = run_of(alert)
    assert run.status == RunStatus.SUCCEEDED and run.started_at is not None
    assert [s.stdout for s in StepRun.objects.filter(run=run)] == ["ok\n"]
    assert execute_messages() == {}


def test_a_worker_that_does_not_take_runs_sends_the_run_to_their_queue(source, immediate, worker_queues):
    worker_queues("default")
    (alert,) = ingest(source, am_payload(am_alert()))

    assert process_alerts(alert_ids=[alert.pk]) == 1

    run = run_of(alert)
    assert run.status == RunStatus.SCHEDULED
    assert execute_messages() == {run.task_id: run.pk}


def test_a_duplicate_message_or_the_sweepers_dispatch_then_does_nothing(source, immediate):
    (alert,) = ingest(source, am_payload(am_alert()))
    alerts_process(alert_ids=[alert.pk], start_runs=True)
    run = run_of(alert)

    assert action_run_execute(run_id=run.pk, task_id=run.task_id) is None

    assert StepRun.objects.filter(run=run).count() == 1
    assert ActionRun.objects.get(pk=run.pk).finished_at == run.finished_at


def test_only_the_batchs_first_immediate_run_is_carried_out_here(source, immediate):
    alerts = ingest(source, am_payload(am_alert(fingerprint="fp-1"), am_alert(fingerprint="fp-2")))

    alerts_process(alert_ids=[a.pk for a in alerts], start_runs=True)

    first, second = (run_of(a) for a in sorted(alerts, key=lambda a: a.pk))
    assert first.status == RunStatus.SUCCEEDED
    assert second.status == RunStatus.SCHEDULED
    assert execute_messages() == {second.task_id: second.pk}


def test_a_run_that_waits_for_an_approver_is_not_started_and_the_next_immediate_one_is(
    source, rule, runnable_action, local_provider
):
    risky = runnable_action(name="Failover", risk=Risk.HIGH)
    safe = runnable_action(name="Diagnose")
    rule(incident_policy="none", responses=[{"action": risky}, {"action": safe}])
    (alert,) = ingest(source, am_payload(am_alert()))

    alerts_process(alert_ids=[alert.pk], start_runs=True)

    runs = {run.action.name: run for run in ActionRun.objects.select_related("action")}
    assert runs["Failover"].status == RunStatus.AWAITING_APPROVAL
    assert runs["Diagnose"].status == RunStatus.SUCCEEDED
    assert execute_messages() == {}


def test_without_start_runs_every_run_gets_its_message(source, immediate):
    (alert,) = ingest(source, am_payload(am_alert()))

    alerts_process(alert_ids=[alert.pk])

    run = run_of(alert)
    assert run.status == RunStatus.SCHEDULED
    assert execute_messages() == {run.task_id: run.pk}


def test_inside_someone_elses_transaction_the_run_is_sent_after_their_commit(source, immediate):
    (alert,) = ingest(source, am_payload(am_alert()))

    with transaction.atomic():
        alerts_process(alert_ids=[alert.pk], start_runs=True)
        assert execute_messages() == {}

    run = run_of(alert)
    assert run.status == RunStatus.SCHEDULED
    assert execute_messages() == {run.task_id: run.pk}
