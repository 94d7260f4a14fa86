"""Messages naming stored rows by id, published by a thread of the web process instead of by the
request's own thread: the request answers without waiting on the broker (a round trip to Redis on
every webhook request), and ids handed over by requests close together go out in one message.

Used where the broker is Redis (production); with any other broker, or eager tasks, the message is
published in place, as common.tasks.enqueue_on_commit does.

What a message published in the request guaranteed still holds. The ids are handed over after
commit, so the rows exist when the message arrives. A refusing broker leaves the message in the
outbox (common.outbox.task_publish_or_keep). A process that dies holding ids (killed, or crashed
between the commit and the push, as it could between commit and an in-request push) leaves its rows
for their sweeper (alerts: alerts.tasks.sweep_alerts); a process that exits normally (gunicorn's
graceful stop, max_requests) publishes what it holds first."""

import atexit
import logging
import os
import threading
from collections.abc import Iterable

from celery import current_app
from django.db import connection

from common.outbox import task_publish_or_keep

logger = logging.getLogger(__name__)

# Ids per message: a worker takes one message as one batch.
MESSAGE_IDS_MAX = 500
# How long a normal exit waits for a publish under way.
EXIT_WAIT_SECONDS = 5


def ids_publish_behind(task_name: str, key: str, ids: Iterable[int]) -> None:
    """Publish `task_name(**{key: ids})` soon, from this process's publishing thread, merged with
    other ids handed over for the same task meanwhile. Call it after commit."""
    ids = list(ids)
    if not ids:
        return
    conf = current_app.conf
    if conf.task_always_eager or not conf.broker_url.startswith("redis://"):
        task_publish_or_keep(task_name, {key: sorted(ids)}, task_id=None, eta=None)
        return
    _behind.add((task_name, key), ids)


def publish_behind_drain(timeout: float = EXIT_WAIT_SECONDS) -> bool:
    """Wait until every id handed over has been published (or kept in the outbox); False if that
    took longer than `timeout`."""
    return _behind.drain(timeout)


class _Behind:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.pending: dict[tuple[str, str], list[int]] = {}
        self.publishing = False
        self.pid: int | None = None

    def add(self, target: tuple[str, str], ids: list[int]) -> None:
        with self.lock:
            if self.pid != os.getpid():  # first use in this process (a forked worker starts afresh)
                self.pid, self.pending, self.publishing = os.getpid(), {}, False
                threading.Thread(target=self._run, name="publish-behind", daemon=True).start()
            self.pending.setdefault(target, []).extend(ids)
            self.changed.notify_all()

    def drain(self, timeout: float) -> bool:
        with self.lock:
            return self.changed.wait_for(lambda: not self.pending and not self.publishing, timeout)

    def _run(self) -> None:
        while True:
            with self.lock:
                self.changed.wait_for(lambda: self.pending)
                batch, self.pending, self.publishing = self.pending, {}, True
            try:
                _publish(batch)
            except Exception:  # task_publish_or_keep never raises; anything else must not end the thread
                logger.exception("Publishing %s failed; the sweepers will find the rows", list(batch))
            finally:
                with self.lock:
                    self.publishing = False
                    self.changed.notify_all()


def _publish(batch: dict[tuple[str, str], list[int]]) -> None:
    for (task_name, key), ids in batch.items():
        ids = sorted(set(ids))
        for start in range(0, len(ids), MESSAGE_IDS_MAX):
            chunk = ids[start : start + MESSAGE_IDS_MAX]
            task_publish_or_keep(task_name, {key: chunk}, task_id=None, eta=None)
    # A refused publish wrote to the outbox on this thread's own connection: not kept open.
    if connection.connection is not None:
        connection.close()


_behind = _Behind()


@atexit.register
def _publish_before_exit() -> None:
    if _behind.pid == os.getpid() and not publish_behind_drain():
        logger.warning("Exiting with ids not yet published; the sweepers will find their rows")
