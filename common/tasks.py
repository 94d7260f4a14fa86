"""Enqueueing after commit (DESIGN.md, rule 4), by task name, with the outbox behind it
(common.outbox), and the beat task that empties the outbox."""

from datetime import datetime
from functools import partial
from typing import Any

from celery import shared_task
from django.db import transaction

from common.outbox import outbox_publish, registered_task, task_publish_or_keep


def enqueue_on_commit(
    task_name: str, *, task_id: str | None = None, eta: datetime | None = None, **ids: Any
) -> None:
    """After commit, publish the task `task_name` with `ids` as its keyword arguments (JSON values);
    if the broker refuses, the message waits in the outbox. `task_id` names the message (a task
    that checks it against its row reads `self.request.id`); `eta` delays it. A misspelt task name
    fails here, at once, rather than after commit."""
    registered_task(task_name)
    # A partial, not a lambda: tests read which task a captured callback publishes (args[0]).
    transaction.on_commit(partial(task_publish_or_keep, task_name, ids, task_id=task_id, eta=eta))


@shared_task(acks_late=True)
def outbox_flush() -> int:
    """Beat: publish again the messages the broker refused while it was down."""
    return outbox_publish()
