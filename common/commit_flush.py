"""Transactions whose result can be derived again need not wait for their commit to reach the disk.

PostgreSQL's `synchronous_commit = off` for one transaction makes its COMMIT return before the WAL
is flushed (the WAL writer flushes it within 3 x wal_writer_delay, 600 ms by default). A crash of
the database in that window loses the transaction whole, never half of it, and the WAL is flushed
in order: any later transaction committed durably (the default everywhere else) makes this one
durable with it.

Only work recomputed from durable rows may use it. Alert processing does: its input, the alert, was
stored durably before the webhook answered 202, and a processing result lost in a crash leaves the
alert unprocessed, which the sweeper processes again. What the lost transaction had sent after
commit finds nothing to act on (the execute task of a run that no longer exists does nothing) or is
sent again when the alert is processed again (a page: at least once, as after any crash). A run
whose step started cannot be lost this way: starting it commits durably, which flushes the
processing transaction that requested it first.

Saves one WAL flush (an fdatasync, 1 to 5 ms on these machines) on the path from an alert to its
first step and per processed batch."""

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
