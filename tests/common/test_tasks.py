"""enqueue_on_commit publishes a task by name after commit; a message the broker refuses waits in
the outbox until the beat task publishes it again."""

import logging
from datetime import timedelta

import pytest
from celery.exceptions import NotRegistered
from django.conf import settings
from django.utils import timezone

from common.models import OutboxMessage
from common.outbox import outbox_publish, registered_task
from common.tasks import enqueue_on_commit, outbox_flush
from config.celery import app
from incidents.services import incident_acknowledge, incident_resolve
from postmortems.models import Postmortem
from tests.conftest import celery_broker

pytestmark = pytest.mark.django_db
TASK = "postmortems.tasks.create_postmortem_draft"
# Nothing listens on port 1: connections are refused at once, as when Redis is stopped.
DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def published(monkeypatch):
    """What reaches the broker, recorded instead of sent."""
    calls = []
    monkeypatch.setattr(registered_task(TASK), "apply_async", lambda **options: calls.append(options))
    return calls


def broker_down():
    return celery_broker(DEAD_BROKER, settings.BROKER_FAIL_FAST)


def test_the_task_is_published_by_name_only_after_commit(published, django_capture_on_commit_callbacks):
    eta = timezone.now() + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit(TASK, task_id="abc", eta=eta, incident_id=7)
    assert published == []

    callbacks[0]()
    assert published == [{"kwargs": {"incident_id": 7}, "task_id": "abc", "eta": eta, "retry": False}]
    assert not OutboxMessage.objects.exists()


def test_a_misspelt_task_fails_at_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(NotRegistered):
        enqueue_on_commit("postmortems.tasks.no_such_task", incident_id=7)
    assert callbacks == []


def test_with_the_broker_down_the_message_waits_in_the_outbox(django_capture_on_commit_callbacks, caplog):
    eta = timezone.now() + timedelta(minutes=5)
    with (
        broker_down(),
        caplog.at_level(logging.WARNING, logger="common.outbox"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        enqueue_on_commit(TASK, task_id="abc", eta=eta, incident_id=7)  # Does not raise.

    kept = OutboxMessage.objects.get()
    assert (kept.task_name, kept.kwargs, kept.task_id, kept.eta, kept.attempts) == (
        TASK,
        {"incident_id": 7},
        "abc",
        eta,
        1,
    )
    assert kept.last_error
    assert f"Broker unavailable; {TASK}({{'incident_id': 7}}) kept in the outbox" in caplog.text


def test_the_flush_publishes_each_kept_message_once_and_deletes_it(published):
    eta = timezone.now() + timedelta(minutes=5)
    OutboxMessage.objects.create(task_name=TASK, kwargs={"incident_id": 1}, task_id="abc", eta=eta)
    OutboxMessage.objects.create(task_name=TASK, kwargs={"incident_id": 2})

    assert outbox_flush() == 2

    assert published == [
        {"kwargs": {"incident_id": 1}, "task_id": "abc", "eta": eta, "retry": False},
        {"kwargs": {"incident_id": 2}, "task_id": None, "eta": None, "retry": False},
    ]
    assert not OutboxMessage.objects.exists()
    assert outbox_publish() == 0  # Idempotent: nothing is sent twice.
    assert len(published) == 2


def test_the_flush_keeps_the_messages_while_the_broker_is_still_down():
    first = OutboxMessage.objects.create(task_name=TASK, kwargs={"incident_id": 1}, attempts=1)
    second = OutboxMessage.objects.create(task_name=TASK, kwargs={"incident_id": 2}, attempts=1)

    with broker_down():
        assert outbox_publish() == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.attempts == 2 and first.last_error
    assert second.attempts == 1  # The round stopped at the first refusal.

    # The broker is back (the suite's in-memory one): both go out.
    assert outbox_publish() == 2
    assert not OutboxMessage.objects.exists()


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_in_eager_mode_the_task_runs_in_place_after_commit(
    eager, open_incident, priorities, actor, django_capture_on_commit_callbacks
):
    incident = open_incident(priority=priorities["P1"])
    incident = incident_acknowledge(incident=incident, by=actor)
    incident = incident_resolve(incident=incident, by=actor, summary="Rolled back.")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit(TASK, incident_id=incident.pk)
    assert not Postmortem.objects.exists()

    callbacks[0]()
    assert Postmortem.objects.get().incident == incident
    assert not OutboxMessage.objects.exists()
