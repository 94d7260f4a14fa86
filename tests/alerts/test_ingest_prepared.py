"""The webhook's one statement is prepared once the alerts table is large enough for its generic plan
(alerts.services.ingest_upsert.PREPARE_MIN_BYTES), and not before: a generic plan built on a small
table scans all of a source's alerts and is kept as the table grows."""

import re

import pytest
from django.db import connection, transaction

from alerts.models import Alert
from alerts.parsers import parse
from alerts.services import alerts_ingest, ingest_upsert
from tests.alerts.support import am_alert, am_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _fresh_answer():
    """The connection's answer is kept across tests (one connection): ask again in each."""
    connection.ensure_connection()
    vars(connection.connection).pop("mitigate_alerts_large", None)
    yield
    vars(connection.connection).pop("mitigate_alerts_large", None)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


def prepared_upserts() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%INSERT INTO alerts_alert%%'"
        )
        return cursor.fetchone()[0]


def post(source, fingerprint: str) -> list[Alert]:
    data = am_payload(am_alert(fingerprint=fingerprint))
    return alerts_ingest(source=source, payload=parse(source.kind, data), raw=data)


def test_a_small_table_keeps_the_statement_unprepared(source):
    for fingerprint in ("a", "b", "a"):
        post(source, fingerprint)

    assert prepared_upserts() == 0
    assert sorted(Alert.objects.values_list("fingerprint", "occurrence_count")) == [("a", 2), ("b", 1)]


def test_a_large_table_prepares_it_once_with_the_same_answers(source, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(ingest_upsert, "PREPARE_MIN_BYTES", 0)
    for fingerprint in ("a", "b", "a", "a", "b", "c", "a"):  # past psycopg's and PostgreSQL's five runs
        with django_assert_num_queries(1):
            landed = post(source, fingerprint)
        assert landed[0].fingerprint == fingerprint

    assert prepared_upserts() == 1
    counts = sorted(Alert.objects.values_list("fingerprint", "occurrence_count"))
    assert counts == [("a", 4), ("b", 2), ("c", 1)]


def test_prepared_statements_can_be_turned_off(source, monkeypatch, settings):
    monkeypatch.setattr(ingest_upsert, "PREPARE_MIN_BYTES", 0)
    settings.DB_PREPARED_STATEMENTS = False
    post(source, "a")
    assert prepared_upserts() == 0


# Transactional: the table is emptied by TRUNCATE afterwards. A rolled-back insert would leave its
# pages, and the table as large as this for the tests that follow on the same database.
@pytest.mark.django_db(transaction=True)
def test_at_the_threshold_the_generic_plan_uses_the_indexes(source):
    """Filled to PREPARE_MIN_BYTES, the plan PostgreSQL would keep finds each fingerprint by the
    (source, fingerprint) index and each row by its key: no scan of the table or of a source."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO alerts_alert (created_at, updated_at, source_id, fingerprint, name, status,
                severity, labels, annotations, starts_at, received_at, last_received_at, occurrence_count,
                generator_url, extra, processed, group_key, matches, notes, opened_incident,
                processing_attempts, processing_error, replays)
            SELECT now(), now(), %s, md5(g::text), 'HighCPU', 'firing', 'critical',
                '{"alertname": "HighCPU", "instance": "web-1:9100"}', '{"summary": "CPU high"}',
                now(), now(), now(), 1, 'http://prometheus:9090/graph', '{}', true, '', '[]', '[]',
                false, 0, '', 0
            FROM generate_series(1, %s) g""",
            [source.pk, ingest_upsert.PREPARE_MIN_BYTES // 240],  # about 240 bytes a row
        )
        cursor.execute("SELECT pg_relation_size('alerts_alert')")
        assert cursor.fetchone()[0] >= ingest_upsert.PREPARE_MIN_BYTES

        names: list[str] = []
        sql = re.sub(
            r"%\((\w+)\)s",
            lambda m: f"${_number(names, m.group(1))}",
            ingest_upsert._statement(ingest_upsert.LEAN_RETURNING),
        )
        types = {"source": "bigint", "as_of": "timestamptz", "now": "timestamptz", "body": "text"}
        types |= {"count": "int", "alerts": "text"}
        cursor.execute(f"PREPARE generic_upsert({', '.join(types[n] for n in names)}) AS {sql}")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        values = {"source": source.pk, "as_of": None, "now": "2026-01-01T00:00:00Z", "body": "{}"}
        values |= {"count": 1, "alerts": '[["fp", "n", "s", {}, {}, "2026-01-01T00:00:00Z", "", {}]]'}
        cursor.execute(
            f"EXPLAIN EXECUTE generic_upsert({', '.join(['%s'] * len(names))})", [values[n] for n in names]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Seq Scan on alerts_alert" not in plan, plan
    assert not re.search(r"Index Cond: \(source_id = \$1\)\n", plan + "\n"), plan  # a whole source
    assert "((fingerprint)::text = ANY" in plan and "Index Cond: (id = p.latest_id)" in plan, plan


def _number(names: list[str], name: str) -> int:
    if name not in names:
        names.append(name)
    return names.index(name) + 1
