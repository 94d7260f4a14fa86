"""A run's start commits without waiting for the WAL flush (common.commit_flush), and that is safe
only because each step's row commits durably, in a transaction of its own, before its command
starts: these tests hold the execute path to both."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions.choices import RunStatus
from actions.models import ActionRun
from actions.services import action_run_execute, action_run_request
from tests.actions.execution_support import SYSTEM, make_action
from tests.conftest import ON_POSTGRES

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRES, reason="synchronous_commit is PostgreSQL's; SQLite has none"),
]

NO_FLUSH_WAIT = "SET LOCAL synchronous_commit TO off"


def test_the_start_skips_the_flush_wait_and_each_step_row_commits_durably_before_its_command(local):
    action = make_action(local, "echo one", "echo two")
    run = action_run_request(action=action, by=SYSTEM)
    with CaptureQueriesContext(connection) as queries:
        action_run_execute(run_id=run.pk, task_id=run.task_id)
    assert ActionRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED

    statements = [query["sql"] for query in queries.captured_queries]
    assert statements[:2] == ["BEGIN", NO_FLUSH_WAIT]
    assert statements.count(NO_FLUSH_WAIT) == 1  # the start only: the finish is durable
    start_committed = statements.index("COMMIT")
    inserts = [i for i, sql in enumerate(statements) if sql.startswith('INSERT INTO "actions_steprun"')]
    assert len(inserts) == 2
    for index in inserts:
        # Autocommit (no BEGIN open around it), after the start's COMMIT: durable when it returns.
        assert index > start_committed
        opened = [i for i in range(start_committed + 1, index) if statements[i] == "BEGIN"]
        closed = [i for i in range(start_committed + 1, index) if statements[i] == "COMMIT"]
        assert len(opened) == len(closed)
