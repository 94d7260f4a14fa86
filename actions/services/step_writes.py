"""The database side of a step running on many hosts at once, kept on the thread that executes the run.

A group step runs each host on a pool thread. Were those threads to write themselves, each would
open a database connection of its own (on PostgreSQL a new server process: connect, authenticate,
warm its caches) to insert its StepRun, record its process group, look for a cancel once a second
and store its output as it arrives, and fifty of them would commit one by one. Instead they hand
their writes to the run's thread, which waits on the pool and makes them meanwhile on its own
connection: the rows of hosts starting together in one INSERT, the writes that arrived together in
one transaction, and one look for a cancel per second for the whole step.

Called on the run's own thread (a single-host step runs there), every write happens at once, as
before. Writes queued by pool threads are made as soon as the run's thread sees them: the output
and results are as current as they were, and a process group is on its row a few milliseconds
after the command started.

If a write fails, every later call from a pool thread raises it: the runner kills its command and
the thread ends, and the run's thread raises the error once the pool is done, as before."""

import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, wait

from django.db import transaction

from actions.models import ActionRun, StepRun

CANCEL_CHECK_SECONDS = 1.0


class StepWriteError(Exception):
    """A write the run's thread made for a pool thread failed (the cause is chained)."""


class StepWrites:
    """The writes of one run's StepRuns, and whether the run was cancelled."""

    def __init__(self, *, run_id: int):
        self.run_id = run_id
        self._owner = threading.get_ident()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._creates: list[tuple[StepRun, Future]] = []
        self._updates: dict[int, dict] = {}
        self._failure: BaseException | None = None
        self._cancelled = False
        # The run was just checked when its step started; the first look is a second in.
        self._last_cancel_check = time.monotonic()

    def _on_owner(self) -> bool:
        return threading.get_ident() == self._owner

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise StepWriteError(f"Run #{self.run_id}: writing a host's result failed.") from self._failure

    def create(self, step_run: StepRun) -> StepRun:
        """Insert the row; from a pool thread, wait until the run's thread has."""
        if self._on_owner():
            step_run.save(force_insert=True)
            return step_run
        done: Future = Future()
        with self._lock:
            self._raise_if_failed()
            self._creates.append((step_run, done))
        self._wake.set()
        return done.result()

    def update(self, step_run_id: int, fields: dict) -> None:
        """Write these columns of the row; from a pool thread, as soon as the run's thread sees them
        (later values of a column replace earlier ones not yet written)."""
        if self._on_owner():
            StepRun.objects.filter(pk=step_run_id).update(**fields)
            return
        with self._lock:
            self._raise_if_failed()
            self._updates.setdefault(step_run_id, {}).update(fields)
        self._wake.set()

    def cancelled(self) -> bool:
        """True once the run was cancelled. The run's thread asks the database at most once a second;
        pool threads read its answer."""
        if self._on_owner():
            self._check_cancel()
        else:
            self._raise_if_failed()
        return self._cancelled

    def _check_cancel(self) -> None:
        now = time.monotonic()
        if self._cancelled or now - self._last_cancel_check < CANCEL_CHECK_SECONDS:
            return
        self._last_cancel_check = now
        self._cancelled = ActionRun.objects.filter(pk=self.run_id, cancel_requested_at__isnull=False).exists()

    def serve(self, futures: Iterable[Future]) -> None:
        """On the run's thread: make the pool threads' writes until every future is done, then raise
        what a write raised, if one failed. Never returns early, so the pool can always finish."""
        pending = set(futures)
        for future in pending:
            future.add_done_callback(lambda _: self._wake.set())
        try:
            while True:
                pending = {f for f in pending if not f.done()}
                self._wake.clear()
                self._write_queued()
                if not pending:
                    break
                if self._failure is None:
                    try:
                        self._check_cancel()
                    except Exception as exc:
                        self._fail(exc)
                wait_for = max(0.0, self._last_cancel_check + CANCEL_CHECK_SECONDS - time.monotonic())
                self._wake.wait(min(wait_for, CANCEL_CHECK_SECONDS) or 0.05)
        except BaseException as exc:  # Interrupted: the pool threads stop at their next write.
            self._fail(exc)
            while not all(f.done() for f in pending):
                self._write_queued()  # Fails the rows still waiting to be inserted.
                wait(pending, timeout=0.1)
            raise
        self._raise_if_failed()

    def _write_queued(self) -> None:
        with self._lock:
            creates, self._creates = self._creates, []
            updates, self._updates = self._updates, {}
        if self._failure is not None:
            for _, done in creates:
                done.set_exception(StepWriteError(f"Run #{self.run_id}: an earlier write failed."))
            return
        try:
            with transaction.atomic():
                if creates:
                    StepRun.objects.bulk_create([row for row, _ in creates])
                for pk, fields in updates.items():
                    StepRun.objects.filter(pk=pk).update(**fields)
        except Exception as exc:
            self._fail(exc)
            for _, done in creates:
                done.set_exception(exc)
            return
        for row, done in creates:
            done.set_result(row)

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = exc
