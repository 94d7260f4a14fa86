"""Server-side parameter binding for a block of statements on PostgreSQL (psycopg 3)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def server_side_binding() -> Iterator[None]:
    """The block's statements send their parameters apart from the SQL (PostgreSQL's extended
    protocol) instead of Django's default client-side binding, which quotes every value into the
    SQL text: for bulk_create's UNNEST arrays the quoting costs more than the statement (the alert
    processing profile: psycopg's ListDumper and template expansion, and the long text sent).
    Only for the block: queries elsewhere may rely on client-side binding. Elsewhere a no-op."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    previous = raw.cursor_factory
    raw.cursor_factory = ServerBindingCursor
    try:
        yield
    finally:
        raw.cursor_factory = previous
