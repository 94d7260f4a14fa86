"""The floor bench/ingest.py holds the webhook to: a one-file Django app, served by the same gunicorn,
that parses the same Alertmanager v4 body and upserts its alerts into a table of alerts_alert's shape
(bench_floor_alert: the same columns and indexes, the partial unique index on firing fingerprints
among them) with one `INSERT ... SELECT FROM unnest(...) ON CONFLICT ... DO UPDATE` committed on its
own, and nothing else: no middleware, no authentication, no rate limit, no payload row, no message.

    gunicorn bench.floor_app:application   (DATABASE_URL names the bench's PostgreSQL database)

bench/ingest.py creates the table (FLOOR_TABLE_DDL) before it starts the server."""

import json
import os
from datetime import UTC, datetime

import django
import environ
from django.conf import settings

TABLE = "bench_floor_alert"
FLOOR_TABLE_DDL = f"CREATE TABLE IF NOT EXISTS {TABLE} (LIKE alerts_alert INCLUDING ALL)"
SOURCE_ID = 1  # the table has no foreign keys: any source will do

if not settings.configured:  # under gunicorn; bench/ingest.py imports the constants only
    database = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    settings.configure(
        DEBUG=False,
        SECRET_KEY="floor",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        USE_TZ=True,
        # Persistent connections, as Mitigate keeps them (CONN_MAX_AGE).
        DATABASES={"default": {**database, "CONN_MAX_AGE": 60}},
    )
    django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

UPSERT = f"""
INSERT INTO {TABLE} (
    created_at, updated_at, source_id, fingerprint, name, status, severity, labels, annotations,
    starts_at, received_at, last_received_at, occurrence_count, generator_url, extra, processed,
    group_key, matches, notes, opened_incident, processing_attempts, processing_error, replays
)
SELECT %(now)s, %(now)s, %(source)s, f, n, 'firing', s, l, a, st, %(now)s, %(now)s, 1, g, '{{}}', false,
       '', '[]', '[]', false, 0, '', 0
FROM unnest(%(f)s::text[], %(n)s::text[], %(s)s::text[], %(l)s::jsonb[], %(a)s::jsonb[],
            %(st)s::timestamptz[], %(g)s::text[]) AS u(f, n, s, l, a, st, g)
ON CONFLICT (source_id, fingerprint) WHERE status = 'firing' DO UPDATE SET
    occurrence_count = {TABLE}.occurrence_count + 1,
    last_received_at = EXCLUDED.last_received_at, updated_at = EXCLUDED.updated_at,
    labels = EXCLUDED.labels, annotations = EXCLUDED.annotations, name = EXCLUDED.name,
    severity = EXCLUDED.severity, generator_url = EXCLUDED.generator_url
"""


@csrf_exempt
def hook(request: HttpRequest) -> JsonResponse:
    alerts = json.loads(request.body)["alerts"]
    columns = {key: [] for key in ("f", "n", "s", "l", "a", "st", "g")}
    for alert in alerts:
        labels = alert["labels"]
        columns["f"].append(alert["fingerprint"])
        columns["n"].append(labels.get("alertname", ""))
        columns["s"].append(labels.get("severity", ""))
        columns["l"].append(json.dumps(labels))
        columns["a"].append(json.dumps(alert.get("annotations") or {}))
        columns["st"].append(datetime.fromisoformat(alert["startsAt"]))
        columns["g"].append(alert.get("generatorURL", ""))
    with connection.cursor() as cursor:  # autocommit: the statement is its own transaction
        cursor.execute(UPSERT, {**columns, "now": datetime.now(UTC), "source": SOURCE_ID})
    return JsonResponse({"stored": len(alerts)}, status=202)


urlpatterns = [path("hooks/floor/", hook)]

application = WSGIHandler()
