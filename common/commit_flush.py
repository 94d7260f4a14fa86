"""Transactions whose loss in a crash is harmless need not wait for their commit to reach the disk.

PostgreSQL's `synchronous_commit = off` for one transaction makes its COMMIT return before the WAL
is flushed (the WAL writer flushes it within 3 x wal_writer_delay, 600 ms by default). A crash of
the database in that window loses the transaction whole, never half of it, and the WAL is flushed
in order: any later transaction committed durably (the default everywhere else) makes this one
durable with it.

A transaction may use it only if a crash that loses it leaves a state that is redone, and nothing
that cannot be undone happens before a later transaction commits durably. Two do:

- Alert processing. Its input, the alert, was stored durably before the webhook answered 202; lost,
  the alert is unprocessed again and the sweeper processes it. What the lost transaction sent after
  commit finds nothing to act on (the execute task of a run that no longer exists does nothing) or is
  sent again when the alert is processed again (a page: at least once, as after any crash).
- A run's start. Lost, the run is scheduled again and the sweeper dispatches it: no command has
  started, as each step's row commits durably (flushing the start, and the processing that
  requested the run, first) before its command starts.

Each saves one WAL flush (an fdatasync, 1 to 5 ms on these machines) on the path from an alert to
its first step, and processing saves one per batch."""

from django.db import connection


def commit_without_flush_wait(*, outermost: bool) -> None:
    """Let the current transaction commit without waiting for the WAL flush. `outermost`: whether
    the caller opened the outermost transaction (`not connection.in_atomic_block` before its
    `atomic()`); inside someone else's transaction nothing changes, as the setting would cover
    their work too. No-op on SQLite."""
    if not outermost or connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("commit_without_flush_wait() must be called inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off")
