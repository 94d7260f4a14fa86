"""Publishing task messages by name, and the outbox that keeps what a refusing broker did not take.

A task is found in the Celery app's registry by name, so services never import tasks (no import
circles), eager mode runs it in place, and tests that patch a task's apply_async see the call. When
the broker refuses a message, the user's change is already committed and answered normally; the
message waits in an OutboxMessage row that the beat task common.tasks.outbox_flush publishes again.
Tasks are idempotent, so a message published twice does no harm."""

import importlib.util
import logging
import threading
from collections.abc import Collection
from datetime import datetime
from typing import Any

from celery import Task, current_app
from django.apps import apps
from django.db import transaction

from common.broker import redis_publish
from common.models import OutboxMessage

logger = logging.getLogger(__name__)
FLUSH_BATCH = 500
_import_lock = threading.Lock()


def registered_task(task_name: str) -> Task:
    """The task of that name; NotRegistered for an unknown one. The apps' tasks modules are imported
    on first use: a web process has no reason to import them before. One thread imports them while
    the others wait: threads importing them together (the first requests of a gthread worker) may
    be handed a half-imported module, whose tasks are not registered yet (a 500 on a webhook)."""
    tasks = current_app.tasks
    if task_name not in tasks:
        with _import_lock:
            if task_name not in tasks:
                _tasks_modules_import()
    return tasks[task_name]


def _tasks_modules_import() -> None:
    """Each installed app's `tasks` module, as the worker's autodiscovery finds them. Not through
    Celery's loader (import_default_modules): its Django fixup runs Django's system checks first,
    which held a web process's first webhook for most of a second (15 ms this way)."""
    for config in apps.get_app_configs():
        name = f"{config.name}.tasks"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def task_publish(
    task_name: str, kwargs: dict[str, Any], *, task_id: str | None, eta: datetime | None
) -> None:
    """Publish now; raises when the broker refuses. On Redis, a plain message is pushed by
    common.broker (a fraction of apply_async's cost); otherwise apply_async with retry=False: a
    broker that is down fails the publish at once instead of holding the request (the outbox retries)."""
    task = registered_task(task_name)
    if eta is None and redis_publish(task, kwargs, task_id=task_id):
        return
    task.apply_async(kwargs=kwargs, task_id=task_id, eta=eta, retry=False)


def task_publish_or_keep(
    task_name: str, kwargs: dict[str, Any], *, task_id: str | None, eta: datetime | None
) -> None:
    """Publish, or keep the message in the outbox when the broker refuses it. Never raises: it runs
    after commit, where the change it follows is done and must be answered normally."""
    try:
        task_publish(task_name, kwargs, task_id=task_id, eta=eta)
    except Exception as exc:
        logger.warning("Broker unavailable; %s(%s) kept in the outbox", task_name, kwargs, exc_info=True)
        try:
            OutboxMessage.objects.create(
                task_name=task_name,
                kwargs=kwargs,
                task_id=task_id or "",
                eta=eta,
                attempts=1,
                last_error=_error(exc),
            )
        except Exception:
            # The database is gone too: the domain sweepers find the work from its rows later.
            logger.exception("Could not keep %s(%s) in the outbox", task_name, kwargs)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def outbox_publish(*, ids: Collection[int] | None = None) -> int:
    """Publish the kept messages (or those of `ids`), oldest first, deleting each once the broker
    took it. The first refusal (the broker is still down) is recorded on its row and ends the round;
    rows another round holds are skipped. Returns how many went out."""
    messages = OutboxMessage.objects.all() if ids is None else OutboxMessage.objects.filter(pk__in=ids)
    published = 0
    for message_id in list(messages.values_list("id", flat=True)[:FLUSH_BATCH]):
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
            if message is None:
                continue
            try:
                task_publish(
                    message.task_name, message.kwargs, task_id=message.task_id or None, eta=message.eta
                )
            except Exception as exc:
                message.attempts += 1
                message.last_error = _error(exc)
                message.save(update_fields=["attempts", "last_error", "updated_at"])
                logger.warning("Broker still unavailable; the outbox keeps its messages", exc_info=True)
                break
            message.delete()
            published += 1
    if published:
        logger.info("Outbox: %d message(s) published", published)
    return published
