"""Server-side parameter binding for a block of statements on PostgreSQL (psycopg 3)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


@contextmanager
def server_side_binding(*, prepared: bool = False) -> Iterator[None]:
    """The block's statements send their parameters apart from the SQL (PostgreSQL's extended
    protocol) instead of Django's default client-side binding, which quotes every value into the
    SQL text: for bulk_create's UNNEST arrays the quoting costs more than the statement (the alert
    processing profile: psycopg's ListDumper and template expansion, and the long text sent).
    Only for the block: queries elsewhere may rely on client-side binding. Elsewhere a no-op.

    `prepared`: the block's statements are also prepared, once per connection, and then executed
    by name, so PostgreSQL parses them once and, after five runs, may keep one generic plan (Django
    leaves psycopg's prepared statements off, for connection poolers). Only for a statement whose
    generic plan is known to be sound (see alerts.services.ingest_upsert). Off with
    DB_PREPARED_STATEMENTS=false (PgBouncer before 1.21 in transaction mode cannot keep them)."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    previous = raw.cursor_factory, raw.prepare_threshold
    raw.cursor_factory = ServerBindingCursor
    if prepared and settings.DB_PREPARED_STATEMENTS:
        raw.prepare_threshold = 0  # prepared at first use; outside the block none are
    try:
        yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = previous
