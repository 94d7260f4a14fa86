"""What a Prometheus scrape of /metrics costs with a big history. Prints figures; asserts nothing.

    .venv/bin/python bench/metrics.py [--incidents 200000] [--deliveries 500000] [--reload]

Loads, once, into PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/mitigate_h_metrics,
created and migrated when missing): the analytics bench's history (bench/analytics_data.py: incidents,
alerts for a quarter of them, action runs), --deliveries ledger rows over three channels, and 1,000
unprocessed alerts. Later runs reuse it unless --reload. Then it times, as the median of 7 runs after
a warm-up (the floor and the scrape alternating round by round):
  floor     the same five aggregates as hand-written SQL on one cursor: what the database alone costs;
  parts     each scrape-time selector through the ORM;
  scrape    the whole exposition (multiprocess files, the five queries, Redis queue lengths, the
            sweep times from the cache), as GET /metrics renders it.
Goal: a scrape <= 500 ms and <= 1.5x the floor, so a 15 s scrape interval costs the database little.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "false"  # production: no query log, no debug cursor (the .env has it on)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mitigate_h_metrics")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="mitigate-bench-metrics-"))

GOAL_MS = 500
GOAL_RATIO = 1.5
RUNS = 7

from bench.databases import ensure_database  # noqa: E402

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from analytics_data import load  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from alerts.models import Alert  # noqa: E402
from incidents.models import Incident  # noqa: E402
from notifications.models import Channel, Delivery  # noqa: E402
from observability import selectors  # noqa: E402
from observability.exposition import exposition  # noqa: E402

FLOOR_SQL = [
    """SELECT p.code, i.status, COUNT(*), COUNT(i.response_breached_at), COUNT(i.resolution_breached_at)
       FROM incidents_incident i JOIN incidents_priority p ON p.id = i.priority_id
       WHERE i.status IN ('new', 'in_progress', 'on_hold') AND NOT i.is_drill GROUP BY 1, 2""",
    """SELECT COUNT(*), MIN(last_received_at) FROM alerts_alert
       WHERE NOT processed AND processing_failed_at IS NULL""",
    "SELECT COUNT(*) FROM alerts_alert WHERE processing_failed_at IS NOT NULL AND NOT processed",
    """SELECT status, CASE WHEN started_at IS NULL OR finished_at IS NULL THEN -1
         WHEN finished_at - started_at <= interval '1 second' THEN 0
         WHEN finished_at - started_at <= interval '5 seconds' THEN 1
         WHEN finished_at - started_at <= interval '15 seconds' THEN 2
         WHEN finished_at - started_at <= interval '30 seconds' THEN 3
         WHEN finished_at - started_at <= interval '60 seconds' THEN 4
         WHEN finished_at - started_at <= interval '120 seconds' THEN 5
         WHEN finished_at - started_at <= interval '300 seconds' THEN 6
         WHEN finished_at - started_at <= interval '600 seconds' THEN 7
         WHEN finished_at - started_at <= interval '1800 seconds' THEN 8
         WHEN finished_at - started_at <= interval '3600 seconds' THEN 9 ELSE 10 END,
       COUNT(*), SUM(finished_at - started_at)
       FROM actions_actionrun GROUP BY 1, 2""",
    """SELECT d.status, COALESCE(c.kind, d.contact_kind), COUNT(*) FROM notifications_delivery d
       LEFT JOIN notifications_channel c ON c.id = d.channel_id GROUP BY 1, 2""",
]


def median_ms(fn) -> float:
    fn()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def floor() -> None:
    with connection.cursor() as cursor:
        for sql in FLOOR_SQL:
            cursor.execute(sql)
            cursor.fetchall()


def load_deliveries(count: int) -> None:
    channels = [
        Channel.objects.get_or_create(name=f"bench-{kind}", defaults={"kind": kind})[0].pk
        for kind in ("slack_webhook", "email", "webhook")
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO notifications_delivery (created_at, updated_at, event_key, target_key, event_kind,
                   event, channel_id, external, contact_kind, address, audience, status, attempts,
                   next_attempt_at, task_id, provider_message_id, error, subject)
               SELECT now(), now(), 'bench-' || n, 'c:' || n, 'incident_opened', '{}',
                   (%s::bigint[])[1 + n %% 3], '', '', '', 'internal',
                   (ARRAY['sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'dead', 'failed', 'bundled',
                          'pending'])[1 + n %% 10],
                   1, now(), '', '', '', ''
               FROM generate_series(1, %s) AS n""",
            [channels, count],
        )


def load_backlog(count: int) -> None:
    source_id = Alert.objects.values_list("source_id", flat=True).first()
    now = timezone.now()
    Alert.objects.bulk_create(
        Alert(
            source_id=source_id,
            fingerprint=f"bench-backlog-{n}",
            name="Backlog",
            starts_at=now,
            received_at=now,
            last_received_at=now,
            processed=False,
        )
        for n in range(count)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--deliveries", type=int, default=500_000)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if args.reload:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE incidents_incident, alerts_alert, actions_actionrun, notifications_delivery CASCADE"
            )
    if not Incident.objects.exists():
        started = time.perf_counter()
        load(args.incidents)  # commits in chunks and vacuums
        load_deliveries(args.deliveries)
        load_backlog(1000)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"loaded in {time.perf_counter() - started:.0f} s")
    from actions.models import ActionRun

    print(
        f"rows: {Incident.objects.count():,} incidents, {Alert.objects.count():,} alerts, "
        f"{ActionRun.objects.count():,} runs, {Delivery.objects.count():,} deliveries"
    )
    print(f"\n{'':<16}{'median ms':>10}")
    parts = {
        "open incidents": selectors.open_incidents_by_priority_and_status,
        "alert backlog": selectors.alert_backlog,
        "alerts failed": selectors.alerts_processing_failed,
        "action runs": selectors.action_run_counts,
        "deliveries": selectors.deliveries_by_status_and_kind,
    }
    for name, fn in parts.items():
        print(f"{name:<16}{median_ms(fn):>10.1f}")
    # The floor and the scrape alternate, round by round, so a busy machine slows both alike.
    floor(), exposition()
    floor_times, scrape_times = [], []
    for _ in range(RUNS):
        for fn, times in ((floor, floor_times), (exposition, scrape_times)):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
    floor_ms, scrape_ms = statistics.median(floor_times), statistics.median(scrape_times)
    print(f"{'floor (SQL)':<16}{floor_ms:>10.1f}")
    print(f"{'scrape':<16}{scrape_ms:>10.1f}")
    ratio = scrape_ms / floor_ms
    verdict = "met" if scrape_ms <= GOAL_MS and ratio <= GOAL_RATIO else "NOT met"
    print(
        f"\nscrape/floor {ratio:.2f} (goal <= {GOAL_RATIO}); "
        f"scrape {scrape_ms:.0f} ms (goal <= {GOAL_MS}): {verdict}"
    )


if __name__ == "__main__":
    main()
