"""Ingestion of the common payload, firing alerts with distinct fingerprints, on PostgreSQL in one
statement: the raw payload row, the lock on each fingerprint's latest row, the replays counted, and
the alerts opened or repeated with `INSERT ... ON CONFLICT` on the partial unique index of firing
fingerprints. A single statement is atomic and, outside a transaction, committed when it returns:
one round trip where the general path (alerts.services.ingest) needs five. The rules are the general
path's, which the tests hold both to:

- a fingerprint with a firing row: a repeat (occurrence_count + 1, the payload's fields refreshed);
- its latest row resolved, and the firing started before that row ended: a replay, counted on it;
- otherwise a new firing row. A concurrent request that opened it first (not yet visible to this
  statement) is met at the unique index, and the repeat is counted on its row.

Locks are taken, and rows inserted, in fingerprint order, so requests naming the same alerts queue
up. A deadlock remains possible in one corner (a row committed between two requests' snapshots);
PostgreSQL then aborts one statement, which changed nothing and is run again."""

import json
import logging
import time
from datetime import datetime

from django.db import OperationalError, connection

from alerts.choices import AlertStatus
from alerts.models import Alert, AlertPayload, AlertSource
from alerts.parsers import ParsedPayload
from alerts.services.sources import SourceChangedError
from alerts.sql_rows import columns_sql, models_from_rows
from common.binding import server_side_binding

logger = logging.getLogger(__name__)

STATEMENT_ATTEMPTS = 3
NAME_LENGTH = Alert._meta.get_field("name").max_length
SEVERITY_LENGTH = Alert._meta.get_field("severity").max_length

# What a new row takes from the payload; every other column gets its field's default.
_NEW_ROW = {
    "created_at": "%(now)s",
    "updated_at": "%(now)s",
    "received_at": "%(now)s",
    "last_received_at": "%(now)s",
    "source_id": "%(source)s",
    # The source's service as its row has it now (a deleted service leaves no stale id).
    "service_id": "(SELECT default_service_id FROM src)",
    "payload_id": "(SELECT id FROM payload)",
    "status": f"'{AlertStatus.FIRING}'",
    "occurrence_count": "1",
    "fingerprint": "i.fingerprint",
    "name": "i.name",
    "severity": "i.severity",
    "labels": "i.labels",
    "annotations": "i.annotations",
    "starts_at": "i.starts_at",
    "generator_url": "i.generator_url",
    "extra": "i.extra",
}
# What a repeat refreshes (the general path's _Plan._refresh).
_REPEAT = [
    "occurrence_count = alerts_alert.occurrence_count + 1",
    "payload_id = EXCLUDED.payload_id",
    "last_received_at = EXCLUDED.last_received_at",
    "updated_at = EXCLUDED.updated_at",
    "name = EXCLUDED.name",
    "severity = EXCLUDED.severity",
    "labels = EXCLUDED.labels",
    "annotations = EXCLUDED.annotations",
    "generator_url = EXCLUDED.generator_url",
    "extra = EXCLUDED.extra",
]


def _defaults() -> tuple[list[str], list[str]]:
    """(columns, SQL values) of a new row: _NEW_ROW, and the defaults of the rest as literals."""
    columns, values = [], []
    for field in Alert._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(f'"{field.column}"')
        if field.column in _NEW_ROW:
            values.append(_NEW_ROW[field.column])
        else:
            default = field.get_db_prep_save(field.get_default(), connection)
            literal = connection.ops.compose_sql("%s", [default])
            values.append(f"CAST({literal} AS {field.db_type(connection)})")
    return columns, values


def _statement(returning: str) -> str:
    columns, values = _defaults()
    payload_table = AlertPayload._meta.db_table
    source_table = AlertSource._meta.db_table
    # `src` is the source's row if it still has the updated_at the request was checked against
    # (as_of; none given: any). Without it nothing is written and no row is returned.
    sql = f"""
WITH src AS MATERIALIZED (
    SELECT id, default_service_id FROM {source_table}
    WHERE id = %(source)s AND updated_at = coalesce(%(as_of)s::timestamptz, updated_at)
), payload AS (
    INSERT INTO {payload_table} (source_id, received_at, body, alert_count)
    SELECT id, %(now)s, %(body)s::jsonb, %(count)s FROM src
    RETURNING id
), incoming AS MATERIALIZED (
    SELECT e->>0 AS fingerprint, e->>1 AS name, e->>2 AS severity, e->3 AS labels,
        e->4 AS annotations, (e->>5)::timestamptz AS starts_at, e->>6 AS generator_url, e->7 AS extra
    FROM src, jsonb_array_elements(%(alerts)s::jsonb) AS e
), latest AS MATERIALIZED (
    SELECT a.id, a.fingerprint, a.status, a.ends_at FROM alerts_alert a
    WHERE a.source_id = %(source)s AND a.fingerprint = ANY(ARRAY(SELECT fingerprint FROM incoming))
    AND a.id IN (
        SELECT max(id) FROM alerts_alert
        WHERE source_id = %(source)s AND fingerprint = ANY(ARRAY(SELECT fingerprint FROM incoming))
        GROUP BY fingerprint
    )
    ORDER BY a.fingerprint
    FOR UPDATE
), plan AS MATERIALIZED (
    SELECT i.*, l.id AS latest_id, coalesce(
        l.status = '{AlertStatus.RESOLVED}' AND l.ends_at IS NOT NULL AND i.starts_at <= l.ends_at, false
    ) AS replay
    FROM incoming i LEFT JOIN latest l ON l.fingerprint = i.fingerprint
), replayed AS (
    UPDATE alerts_alert SET replays = alerts_alert.replays + 1, updated_at = %(now)s
    FROM plan p WHERE p.replay AND alerts_alert.id = p.latest_id
    RETURNING {returning}
), upserted AS (
    INSERT INTO alerts_alert ({", ".join(columns)})
    SELECT {", ".join(values)} FROM plan i WHERE NOT i.replay ORDER BY i.fingerprint
    ON CONFLICT (source_id, fingerprint) WHERE status = '{AlertStatus.FIRING}'
    DO UPDATE SET {", ".join(_REPEAT)}
    RETURNING {returning}
)
SELECT * FROM upserted UNION ALL SELECT * FROM replayed
"""
    # Literals of the defaults contain no %: the statement's only placeholders are the parameters.
    return sql


# The statement returning whole rows (for Alert objects), and the webhook's, returning what it needs.
_SQL: dict[str, str] = {}
LEAN_RETURNING = "alerts_alert.id, alerts_alert.fingerprint, alerts_alert.processed"


def upsert_applies(payload: ParsedPayload) -> bool:
    """Whether the one statement can take this payload: PostgreSQL, and only firing alerts, each
    fingerprint once (ON CONFLICT updates a row once per statement). Anything else, and SQLite,
    takes the general path."""
    if connection.vendor != "postgresql" or not payload.alerts:
        return False
    fingerprints = {alert.fingerprint for alert in payload.alerts}
    return len(fingerprints) == len(payload.alerts) and all(
        alert.status == AlertStatus.FIRING for alert in payload.alerts
    )


def alerts_upsert(
    *,
    source: AlertSource,
    payload: ParsedPayload,
    raw: dict,
    body: str | None = None,
    now: datetime,
    as_of: datetime | None = None,
) -> list[Alert]:
    """Store the payload (as `body`, its JSON text, when the caller has it: no re-serialization)
    and its alerts in one statement; the alert each parsed alert landed on, in payload order.
    With `as_of`, only if the source's row still has that updated_at, else SourceChangedError."""
    rows = _upsert(columns_sql(Alert, "alerts_alert"), source, payload, raw, body, now, as_of)
    by_fingerprint = {alert.fingerprint: alert for alert in models_from_rows(Alert, rows)}
    return [by_fingerprint[alert.fingerprint] for alert in payload.alerts]


def alerts_upsert_lean(
    *,
    source: AlertSource,
    payload: ParsedPayload,
    raw: dict,
    body: str | None = None,
    now: datetime,
    as_of: datetime | None = None,
) -> list[tuple[int, bool]]:
    """alerts_upsert answering (id, processed) of each landed alert, in payload order, without
    building Alert objects (13% of a 100-alert batch's CPU in the profile)."""
    rows = _upsert(LEAN_RETURNING, source, payload, raw, body, now, as_of)
    by_fingerprint = {fingerprint: (pk, processed) for pk, fingerprint, processed in rows}
    return [by_fingerprint[alert.fingerprint] for alert in payload.alerts]


def _upsert(
    returning: str,
    source: AlertSource,
    payload: ParsedPayload,
    raw: dict,
    body: str | None,
    now: datetime,
    as_of: datetime | None,
) -> list[tuple]:
    sql = _SQL.get(returning)
    if sql is None:
        sql = _SQL[returning] = _statement(returning)
    # The alerts as one JSON document, serialized in one call: per-field arrays cost a json.dumps
    # per label set and psycopg's quoting of every element (a fifth of a batch's CPU).
    incoming = [
        [
            alert.fingerprint,
            alert.name[:NAME_LENGTH],
            alert.severity[:SEVERITY_LENGTH],
            alert.labels,
            alert.annotations,
            alert.starts_at.isoformat(),
            alert.generator_url,
            alert.extra,
        ]
        for alert in payload.alerts
    ]
    params = {
        "source": source.pk,
        "as_of": as_of,
        "now": now,
        "body": body if body is not None else json.dumps(raw),
        "count": len(payload.alerts),
        "alerts": json.dumps(incoming),
    }
    rows = _execute(sql, params, source)
    if not rows:  # every incoming alert lands on a row, unless `src` was empty
        raise SourceChangedError(source.slug)
    return rows


# Preparing the statement halves PostgreSQL's CPU for a single alert (1.1 -> 0.45 ms: planning it
# cost more than running it), but the generic plan PostgreSQL keeps after five runs is built on the
# table's size at that moment, and kept until its statistics change. Built on a small table it
# scans all of a source's alerts, and a fresh install growing by an alert storm slowed down
# tenfold within a minute. From about 1,000 pages (8 MB, 30,000 alerts) on, the generic plan takes
# each fingerprint from the (source, fingerprint) index and each row by its key; the threshold is
# four times that (tests/alerts/test_ingest_prepared.py holds the plan to it there).
PREPARE_MIN_BYTES = 32 * 1024 * 1024
# How long a connection keeps its answer that the table is still too small.
PREPARE_RECHECK_SECONDS = 60


def _generic_plan_sound() -> bool:
    """Whether the alerts table is large enough for the statement to be prepared; asked once per
    connection (and again every PREPARE_RECHECK_SECONDS while it is not), on the connection itself
    so that it is not one of the request's counted statements."""
    connection.ensure_connection()
    raw = connection.connection
    known = getattr(raw, "mitigate_alerts_large", None)
    now = time.monotonic()
    if known is None or (not known[0] and now - known[1] > PREPARE_RECHECK_SECONDS):
        with connection.wrap_database_errors:
            size = raw.execute("SELECT pg_relation_size(%s::regclass)", [Alert._meta.db_table]).fetchone()[0]
        known = raw.mitigate_alerts_large = (size >= PREPARE_MIN_BYTES, now)
    return known[0]


def _execute(sql: str, params: dict, source: AlertSource) -> list[tuple]:
    for attempt in range(1, STATEMENT_ATTEMPTS + 1):
        try:
            # Server-side binding for this statement (common.binding): Django's client-side cursor
            # would quote the parameters into the SQL text, most of a 100-alert batch's time. And
            # prepared, once its generic plan is sound (_generic_plan_sound).
            with server_side_binding(prepared=_generic_plan_sound()), connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        except OperationalError as error:
            # Only a deadlock outside a transaction is run again: the aborted statement changed
            # nothing, while inside a transaction the caller's work is aborted with it.
            deadlock = getattr(error.__cause__, "sqlstate", None) == "40P01"
            if not deadlock or connection.in_atomic_block or attempt == STATEMENT_ATTEMPTS:
                raise
            logger.info("Alerts of source %s: a deadlock with another request; run again", source.slug)
    raise AssertionError("unreachable")
