"""A transaction that opts out of waiting for its WAL flush (common.commit_flush) does so alone: the
setting ends with it, is left alone inside someone else's transaction, and alert processing, whose
result the sweeper can derive again, is the transaction that uses it."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts.services.processing import alerts_process
from common.commit_flush import commit_without_flush_wait
from tests.alerts.support import am_alert, am_payload, ingest
from tests.conftest import ON_POSTGRES

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRES, reason="synchronous_commit is PostgreSQL's; SQLite has none"),
]


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_the_outermost_transaction_commits_without_waiting_and_the_setting_ends_with_it():
    with transaction.atomic():
        commit_without_flush_wait(outermost=True)
        assert synchronous_commit() == "off"
    assert synchronous_commit() == "on"


def test_inside_someone_elses_transaction_nothing_changes():
    with transaction.atomic():
        with transaction.atomic():
            commit_without_flush_wait(outermost=False)
        assert synchronous_commit() == "on"


def test_outside_a_transaction_it_refuses():
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        commit_without_flush_wait(outermost=True)
    assert synchronous_commit() == "on"


def test_processing_commits_without_waiting_for_the_flush(source, rule):
    rule("All", matchers=[{"label": "alertname", "op": "eq", "value": "Down"}], incident_policy="create")
    (alert,) = ingest(source, am_payload(am_alert("Down", fingerprint="f1")))
    with CaptureQueriesContext(connection) as queries:
        assert alerts_process(alert_ids=[alert.pk]) == 1
    statements = [query["sql"] for query in queries.captured_queries]
    assert statements[1] == "SET LOCAL synchronous_commit TO off"  # first in its transaction
    assert synchronous_commit() == "on"
    alert.refresh_from_db()
    assert alert.processed and alert.incident_id is not None
