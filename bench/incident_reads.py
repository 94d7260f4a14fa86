"""How fast the incident paths stay as data grows. Prints figures; asserts nothing.

    .venv/bin/python bench/incident_reads.py [--incidents 2000]

Uses a throwaway SQLite database unless DATABASE_URL is set (then a `bench_` copy of its name is
created and dropped by Django's test-database machinery).
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
_tmp = tempfile.mkdtemp(prefix="mitigate-bench-")
os.environ.setdefault("VAR_DIR", _tmp)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from common.actor import Actor, Source  # noqa: E402
from incidents.models import Incident, Priority, Service  # noqa: E402
from incidents.services import incident_create, incident_sla_sweep  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, float, int]:
    """Median and p95 wall time in ms, and the query count of one call."""
    with CaptureQueriesContext(connection) as queries:
        response = fn()
    # Read now: every request clears the connection's query log when it starts.
    query_count = len(queries)
    if response.status_code != 200:
        raise SystemExit(f"{response.status_code}: {response.content[:300]!r}")
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(len(samples) * 0.95) - 1)], query_count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    setup_test_environment(debug=False)
    old_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        admin = User.objects.create_superuser("bench", "bench@example.com", "bench-pass-not-secret")
        actor = Actor(user=admin, source=Source.CLI)
        services = [Service.objects.create(name=f"svc {i}", slug=f"svc-{i}") for i in range(10)]
        priorities = list(Priority.objects.all())

        start = time.perf_counter()
        for i in range(args.incidents):
            incident_create(
                by=actor,
                title=f"Incident {i}",
                priority=priorities[i % 4],
                services=[services[i % 10]],
                detected_at=timezone.now() - timedelta(minutes=i),
            )
        create_ms = (time.perf_counter() - start) * 1000 / args.incidents

        api = APIClient()
        api.force_authenticate(admin)
        web = django.test.Client()
        web.force_login(admin)

        rows = [
            ("incident_create (service, per incident)", create_ms, None, None),
            (
                "API GET /api/v1/incidents/ (50/page)",
                *timed(lambda: api.get("/api/v1/incidents/"), args.repeat),
            ),
            (
                "API GET /api/v1/incidents/?status=new&priority=P1",
                *timed(lambda: api.get("/api/v1/incidents/?status=new&priority=P1"), args.repeat),
            ),
            ("admin incident changelist", *timed(lambda: web.get("/admin/incidents/incident/"), args.repeat)),
        ]
        later = timezone.now() + timedelta(days=10)
        start = time.perf_counter()
        recorded = incident_sla_sweep(now=later)
        sweep_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        incident_sla_sweep(now=later)
        idle_ms = (time.perf_counter() - start) * 1000

        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(f"database: {engine}; incidents: {Incident.objects.count()}")
        print(f"{'path':<55}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
        for name, median, p95, queries in rows:
            p95_text = f"{p95:>10.1f}" if p95 is not None else f"{'':>10}"
            q_text = f"{queries:>9}" if queries is not None else f"{'':>9}"
            print(f"{name:<55}{median:>10.1f}{p95_text}{q_text}")
        print(f"SLA sweep recording {recorded} events: {sweep_ms:.0f} ms")
        print(f"SLA sweep again, nothing new to record: {idle_ms:.0f} ms")
    finally:
        connection.creation.destroy_test_db(old_db, verbosity=0)


if __name__ == "__main__":
    main()
