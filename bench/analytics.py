"""Analytics and the incident changelist at 1,000,000 incidents. Prints figures; asserts nothing.

    .venv/bin/python bench/analytics.py [--incidents 1000000] [--reload] [--explain] [--experiments]

Loads the history into PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mitigate_bench_analytics, created and migrated when missing) once:
generate_history's planner draws the rows and PostgreSQL COPY stores them (incidents, their services,
alerts for a quarter of them, action runs, post-mortems and action items; no timeline events, which
no metric reads). Later runs reuse the data unless --reload. Then it times, as the median of 5 runs
after a warm-up: the summary, the monthly series with each group-by, peak times, recommendations and
the admin incident changelist (page 1, page 2, filtered), rendered by Django's test client with DEBUG
off. The analytics views read the rollups (built by `rebuild_analytics_rollups` after a load, as COPY
bypasses the services that maintain them); each is also timed and answered with the rollups marked
unbuilt (the direct queries over the incidents, in a transaction rolled back), and the two answers
are compared: MATCH or MISMATCH. --explain prints EXPLAIN ANALYZE of the changelist's slowest
queries; --experiments measures candidate fixes (patched in this process only) and candidate
indexes (created, measured, dropped).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mitigate_bench_analytics")
os.environ.setdefault("LOG_LEVEL", "WARNING")

GOAL_ANALYTICS_MS = 500
GOAL_SUMMARY_365_MS = 300
GOAL_CHANGELIST_MS = 300
RUNS = 5
SLOW_MS = 10_000
STATEMENT_TIMEOUT_S = 120


from bench.databases import ensure_database  # noqa: E402

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from analytics_data import load  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import OperationalError, connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from analytics.models import RollupState  # noqa: E402
from analytics.rollups.services import analytics_rollups_rebuild  # noqa: E402
from demo.history import history_incidents  # noqa: E402
from incidents.models import Incident  # noqa: E402
from incidents.services.repeats import incidents_repeat_backfill_postgres  # noqa: E402


def timed(fn) -> tuple[float, int]:
    """Median wall time in ms of RUNS calls after a warm-up, and the warm-up's query count. A call
    slower than SLOW_MS is timed once (its warm-up); one cancelled by the statement timeout is inf."""
    start = time.perf_counter()
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            fn()
    except OperationalError:
        return float("inf"), -1
    warm_up = (time.perf_counter() - start) * 1000
    count = len(queries)
    if warm_up > SLOW_MS:
        return warm_up, count
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), count


def page(client: Client, url: str):
    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
        return response

    return get


class RollbackError(Exception):
    pass


def direct(fn):
    """`fn` with the rollups marked unbuilt (the selectors query the incidents), rolled back."""

    def run():
        from analytics.models import RollupState

        out = []
        try:
            with transaction.atomic():
                RollupState.objects.all().delete()
                out.append(fn())
                raise RollbackError
        except RollbackError:
            pass
        return out[0]

    return run


def analytics_rows() -> list[tuple[str, float, int, int]]:
    """Each analytics view from the rollups and directly, side by side, and whether they agree."""
    rows, verdicts = [], []
    for name, fn in analytics_cases():
        goal = GOAL_SUMMARY_365_MS if name == "summary, last 365 days" else GOAL_ANALYTICS_MS
        rolled_ms, rolled_queries = timed(fn)
        direct_ms, direct_queries = timed(direct(fn))
        rows.append((name, rolled_ms, rolled_queries, goal))
        rows.append((f"  direct (before): {name}", direct_ms, direct_queries, goal))
        verdicts.append((name, "MATCH" if fn() == direct(fn)() else "MISMATCH"))
    report(rows)
    print()
    for name, verdict in verdicts:
        print(f"{name:<48}{verdict}")
    return rows


def analytics_cases() -> list[tuple[str, object]]:
    try:
        from analytics.filters import Filters
        from analytics.selectors import (
            grouped_metrics,
            incident_series,
            monthly_trend,
            peak_times,
            recommendations,
            summary,
        )
    except ImportError as exc:
        print(f"analytics.selectors not ready ({exc}); timing the changelist only.")
        return []
    cases = [
        ("summary, last 30 days", lambda: summary(Filters.last(days=30))),
        ("summary, last 365 days", lambda: summary(Filters.last(days=365))),
    ]
    for group_by in (None, "priority", "service_type", "root_cause", "team"):
        cases.append(
            (
                f"series by month, 365 days, group_by={group_by}",
                lambda g=group_by: incident_series(Filters.last(days=365), bucket="month", group_by=g),
            )
        )
    cases += [
        ("series by day, 90 days", lambda: incident_series(Filters.last(days=90), bucket="day")),
        ("peak times, 90 days", lambda: peak_times(Filters.last(days=90))),
        ("peak times, 365 days", lambda: peak_times(Filters.last(days=365))),
        ("recommendations, 90 days", lambda: recommendations(Filters.last(days=90))),
        ("monthly trend, 12 months", lambda: monthly_trend(Filters.last(days=30))),
        (
            "summary, 30 days, P1+P2, one team",
            lambda: summary(Filters.last(days=30, priorities=("P1", "P2"), teams=("Payments",))),
        ),
    ]
    for group_by in ("priority", "service_type", "root_cause", "team", "month"):
        cases.append(
            (
                f"grouped metrics, 30 days, {group_by}",
                lambda g=group_by: grouped_metrics(Filters.last(days=30), g),
            )
        )
    return cases


def changelist_cases(client: Client) -> list[tuple[str, object]]:
    base = "/admin/incidents/incident/"
    return [
        ("changelist page 1", page(client, base)),
        ("changelist page 2", page(client, f"{base}?p=2")),
        ("changelist resolved P1", page(client, f"{base}?status__exact=resolved&priority__id__exact=1")),
        ("changelist status=closed (most rows)", page(client, f"{base}?status__exact=closed")),
        ("changelist search 'latency'", page(client, f"{base}?q=latency")),
        ("changelist search a reference", page(client, f"{base}?q=INC-2026-0420")),
    ]  # fmt: skip


def report(rows: list[tuple[str, float, int, int]]) -> None:
    print(f"\n{'what':<48}{'median ms':>11}{'queries':>9}{'goal ms':>9}  ")
    for name, ms, queries, goal in rows:
        verdict = "ok" if ms <= goal else "OVER"
        shown = f"> {STATEMENT_TIMEOUT_S} s" if ms == float("inf") else f"{ms:.1f}"
        note = " (1 run)" if SLOW_MS < ms < float("inf") else ""
        print(f"{name:<48}{shown:>11}{queries:>9}{goal:>9}  {verdict}{note}", flush=True)


def slowest_queries(fn, top: int = 3) -> list[tuple[float, str]]:
    with CaptureQueriesContext(connection) as queries:
        try:
            with transaction.atomic():
                fn()
        except OperationalError:
            pass  # Cancelled by the statement timeout; it is among the captured queries.
    found = sorted(((float(q["time"]) * 1000, q["sql"]) for q in queries.captured_queries), reverse=True)
    return found[:top]


def explain(fn) -> None:
    for ms, sql in slowest_queries(fn):
        print(f"\n--- {ms:.1f} ms: {sql[:400]}")
        analyze = "ANALYZE, BUFFERS" if ms < SLOW_MS else "COSTS"  # too slow to run once more
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN ({analyze}) {sql}")
            for (line,) in cursor.fetchall():
                print("   ", line)


def mark_repeats() -> int:
    """COPY bypasses the services that mark repeats: mark the loaded history in one pass."""
    return incidents_repeat_backfill_postgres(connection=connection)


def experiments(client: Client) -> None:
    """Candidate fixes for the changelist, patched in this process only, and candidate indexes."""
    from django.contrib import admin
    from django.core.paginator import Paginator
    from django.utils.functional import cached_property

    model_admin = admin.site._registry[Incident]

    class EstimatedCountPaginator(Paginator):
        """The planner's row estimate for an unfiltered list, a real count (capped) when filtered."""

        @cached_property
        def count(self):
            query = self.object_list.query
            if not query.where:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [Incident._meta.db_table]
                    )
                    estimate = cursor.fetchone()[0]
                if estimate > 10_000:
                    return estimate
            return self.object_list[:10_001].count()

    def measure(label: str) -> None:
        rows = [(f"{label}: {name}", *timed(fn), GOAL_CHANGELIST_MS) for name, fn in changelist_cases(client)]
        report(rows)

    saved = (model_admin.date_hierarchy, model_admin.paginator)
    try:
        model_admin.date_hierarchy = None
        measure("no date_hierarchy")
        model_admin.date_hierarchy = saved[0]
        model_admin.paginator = EstimatedCountPaginator
        measure("estimated count")
        model_admin.date_hierarchy = None
        measure("both")
    finally:
        model_admin.date_hierarchy, model_admin.paginator = saved

    trigram = (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX bench_incident_title_trgm ON incidents_incident "
        "USING gin ((UPPER(title::text)) gin_trgm_ops)",
        "CREATE INDEX bench_incident_reference_trgm ON incidents_incident "
        "USING gin ((UPPER(reference::text)) gin_trgm_ops)",
    )
    with connection.cursor() as cursor:
        for statement in trigram:
            cursor.execute(statement)
        cursor.execute("ANALYZE incidents_incident")
    try:
        report(
            [
                (f"+trigram indexes: {name}", *timed(fn), GOAL_CHANGELIST_MS)
                for name, fn in changelist_cases(client)
                if "search" in name
            ]
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX bench_incident_title_trgm; DROP INDEX bench_incident_reference_trgm")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reload", action="store_true", help="Delete the generated history and load again.")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the changelist's slowest queries."
    )
    parser.add_argument("--experiments", action="store_true", help="Measure candidate fixes and indexes.")
    parser.add_argument("--only", choices=["analytics", "changelist", "load"], default=None)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    have = history_incidents().count()
    if args.reload and have:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE incidents_incident, incidents_incident_services, alerts_alert, actions_actionrun, "
                "postmortems_postmortem, postmortems_actionitem, postmortems_postmortem_services_impacted, "
                "incidents_timelineevent, incidents_incidentsequence CASCADE"
            )
        have = 0
    if have < args.incidents:
        print(f"Loading {args.incidents - have:,} incidents (have {have:,}) ...")
        load(args.incidents - have)
        started = time.perf_counter()
        print(f"Marked {mark_repeats():,} repeats in {time.perf_counter() - started:.0f} s.")
    if have < args.incidents or not RollupState.objects.exists():
        started = time.perf_counter()
        print(
            f"Rolled up {analytics_rollups_rebuild():,} incidents in {time.perf_counter() - started:.0f} s."
        )
    print(f"database: PostgreSQL {connection.pg_version}; incidents: {Incident.objects.count():,}")
    if args.only == "load":
        return

    setup_test_environment(debug=False)
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT_S}s'")
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.com"}
    )
    client = Client()
    client.force_login(user)

    rows = []
    if args.only != "analytics":
        rows += [(name, *timed(fn), GOAL_CHANGELIST_MS) for name, fn in changelist_cases(client)]
        report(rows)
    if args.only != "changelist":
        rows += analytics_rows()
    if args.explain:
        print("\nSlowest queries of the changelist, page 1:")
        explain(page(client, "/admin/incidents/incident/"))
        print("\nSlowest queries of the summary, 365 days:")
        cases = dict(analytics_cases())
        if cases:
            explain(cases["summary, last 365 days"])
    if args.experiments:
        experiments(client)


if __name__ == "__main__":
    main()
