"""common.binding.server_side_binding: on PostgreSQL the block's cursors bind parameters on the
server, and the connection's default comes back after it (also when the block fails); bulk writes
inside it store the same rows. Elsewhere a no-op."""

import pytest
from django.db import connection

from common.binding import server_side_binding
from common.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_the_block_binds_on_the_server_and_the_default_comes_back():
    connection.ensure_connection()
    before = type(connection.connection.cursor())
    with pytest.raises(RuntimeError), server_side_binding():
        inside = type(connection.connection.cursor())
        raise RuntimeError("the block fails")
    assert type(connection.connection.cursor()) is before
    if connection.vendor == "postgresql":
        assert inside.__name__ == "ServerBindingCursor" and before.__name__ != inside.__name__
    else:
        assert inside is before


def test_bulk_writes_inside_store_the_same_rows():
    kwargs = [{"ids": [1, 2], "text": 'it\'s "quoted" {}'}, {"nested": {"a": [None, True]}}]
    with server_side_binding():
        OutboxMessage.objects.bulk_create(
            [OutboxMessage(task_name=f"task.{i}", kwargs=value) for i, value in enumerate(kwargs)]
        )
    stored = list(OutboxMessage.objects.order_by("task_name").values_list("task_name", "kwargs"))
    assert stored == [("task.0", kwargs[0]), ("task.1", kwargs[1])]
