"""common.json_rows: rows written from one JSON document on PostgreSQL store what the ORM would
(text that needs quoting, nested JSON, date-times to the microsecond, NULLs, foreign keys), inserted
rows get their ids in order, and a field the ORM converts otherwise is refused."""

from datetime import UTC, datetime

import pytest

from alerts.models import AlertSource
from common.json_rows import rows_insert, rows_update
from common.models import OutboxMessage

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TRICKY = 'it\'s "quoted" \\ back {} %s $1 ünï 🚨\nline'


def test_inserted_rows_are_stored_as_given_and_get_their_ids_in_order():
    at = datetime(2026, 3, 5, 14, 2, 11, 482917, tzinfo=UTC)
    messages = [
        OutboxMessage(
            task_name=f"task.{i}", kwargs=kwargs, eta=eta, last_error=error, created_at=at, updated_at=at
        )
        for i, (kwargs, eta, error) in enumerate(
            [
                ({"ids": [1, 2], "text": TRICKY}, at, TRICKY),
                ({"nested": {"a": [None, True, 1.5]}}, None, ""),
                ([], at, "x"),
            ]
        )
    ]
    rows_insert(messages)
    assert [m.pk for m in messages] == sorted(m.pk for m in messages)
    stored = {m.pk: m for m in OutboxMessage.objects.all()}
    for message in messages:
        row = stored[message.pk]
        assert (row.task_name, row.kwargs, row.eta, row.last_error, row.created_at) == (
            message.task_name,
            message.kwargs,
            message.eta,
            message.last_error,
            at,
        )
        assert not message._state.adding


def test_updated_rows_change_only_the_fields_named():
    at = datetime(2026, 3, 5, 14, 2, 11, 1, tzinfo=UTC)
    first, second = OutboxMessage.objects.create(task_name="a"), OutboxMessage.objects.create(task_name="b")
    first.kwargs, first.eta, first.task_name = {"text": TRICKY}, at, "not written"
    second.kwargs, second.eta = [TRICKY], None
    assert rows_update([first, second], ["kwargs", "eta"]) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.task_name, first.kwargs, first.eta) == ("a", {"text": TRICKY}, at)
    assert (second.task_name, second.kwargs, second.eta) == ("b", [TRICKY], None)


def test_a_field_the_orm_converts_is_refused():
    with pytest.raises(ValueError, match="hmac_secret"):
        rows_update([AlertSource(pk=1, name="x")], ["hmac_secret"])
