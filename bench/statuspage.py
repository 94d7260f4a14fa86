"""How many readers the status page serves: requests/s of /status/ and /status/api/v2/summary.json
beside the trivial view (/healthz) under gunicorn. Prints figures and the goal; asserts nothing, but
says FAIL (and exits 1) where the goal is missed.

    .venv/bin/python bench/statuspage.py [--components 50] [--incidents 1000] [--rounds 3]
                                         [--seconds 5] [--connections 16] [--workers N] [--reload]

SQLite by default (a database file of its own under VAR_DIR/bench, migrated when new) with the file
cache; PostgreSQL when DATABASE_URL is set (created and migrated when missing), with Redis as the
cache when REDIS_URL is set, e.g.
DATABASE_URL=postgres://postgres@127.0.0.1:5432/mitigate_bench_statuspage REDIS_URL=redis://127.0.0.1:6379/11

The page is loaded once (bulk_create; reused unless --reload or another size): --components
components in groups of ten, --incidents resolved public incidents spread over the history window,
each with three updates and the status changes of the one to three components it named, and one
open incident. Then gunicorn serves config.wsgi, and the three URLs are measured in alternating
rounds (a slow minute of the machine lands on all of them alike), each with the same number of
keep-alive connections: with wrk when installed (apt-get install wrk), sending Accept-Encoding:
gzip as browsers do (--identity leaves it out), else with Python threads (one http.client connection
each, no gzip). The goal: the pages served at >= 50% of the trivial view's rate,
which they reach by being cached whole per page version (statuspage.cache).

The client runs on the same machine as the server: its CPU use lowers every figure alike, which is
why they are compared side by side rather than to a constant. gunicorn is stopped at the end, also on
error or Ctrl-C.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if not os.environ.get("DATABASE_URL"):
    bench_dir = Path(os.environ.get("VAR_DIR", ROOT / "var")) / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{bench_dir / 'statuspage.sqlite3'}"

GOAL_SHARE = 0.5  # of the trivial view's requests/s
PREFIX = "bench-sp"
TRIVIAL = "/healthz"
PAGES = ["/status/", "/status/api/v2/summary.json"]

from bench.databases import ensure_database  # noqa: E402

if os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
    ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.ingest_load import Phase, Processes, percentile, wait_for_http  # noqa: E402
from common.actor import Actor, Source  # noqa: E402
from statuspage.cache import page_changed  # noqa: E402
from statuspage.choices import ComponentStatus, Impact, Kind, PublicStatus  # noqa: E402
from statuspage.models import (  # noqa: E402
    AffectedComponent,
    Component,
    ComponentGroup,
    ComponentStatusChange,
    PublicIncident,
    PublicUpdate,
)
from statuspage.services.public_incidents import public_incident_open  # noqa: E402

BENCH = Actor.system(source=Source.CLI, label="bench")
DOWN = [ComponentStatus.DEGRADED, ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.MAJOR_OUTAGE]


def load(*, components: int, incidents: int, reload: bool) -> str:
    """The bench's page, made once (or again with --reload or another size)."""
    existing = Component.objects.filter(name__startswith=PREFIX)
    past = PublicIncident.objects.filter(title__startswith=PREFIX, status=PublicStatus.RESOLVED)
    if not reload and existing.count() == components and past.count() == incidents:
        return f"reused {components} components and {incidents} incidents"
    started = time.perf_counter()
    now = timezone.now()
    window = timedelta(days=89)
    with transaction.atomic():
        PublicIncident.objects.filter(title__startswith=PREFIX).delete()
        existing.delete()
        ComponentGroup.objects.filter(name__startswith=PREFIX).delete()
        groups = ComponentGroup.objects.bulk_create(
            ComponentGroup(name=f"{PREFIX} group {n}", order=n) for n in range((components + 9) // 10)
        )
        if not groups[0].pk:  # Backends that do not return ids from bulk_create.
            groups = list(ComponentGroup.objects.filter(name__startswith=PREFIX).order_by("order"))
        made = Component.objects.bulk_create(
            Component(name=f"{PREFIX} component {n:03d}", group=groups[n // 10], order=n)
            for n in range(components)
        )
        if not made[0].pk:
            made = list(existing.order_by("order"))
        publics = PublicIncident.objects.bulk_create(
            PublicIncident(
                kind=Kind.INCIDENT,
                title=f"{PREFIX} incident {n}: elevated errors",
                impact=[Impact.MINOR, Impact.MAJOR, Impact.CRITICAL][n % 3],
                status=PublicStatus.RESOLVED,
                started_at=now - window + window * n / incidents,
                resolved_at=now - window + window * n / incidents + timedelta(minutes=30 + n % 180),
            )
            for n in range(incidents)
        )
        if not publics[0].pk:
            publics = list(PublicIncident.objects.filter(title__startswith=PREFIX).order_by("started_at"))
        affected, changes, updates = [], [], []
        for n, public in enumerate(publics):
            named = {made[(n * 7 + k * 13) % len(made)] for k in range(1 + n % 3)}
            for component in named:
                status = DOWN[n % 3]
                affected.append(AffectedComponent(public_incident=public, component=component, status=status))
                changes.append(
                    ComponentStatusChange(component=component, status=status, at=public.started_at,
                                          public_incident=public)
                )  # fmt: skip
                changes.append(
                    ComponentStatusChange(component=component, status=ComponentStatus.OPERATIONAL,
                                          at=public.resolved_at, public_incident=public)
                )  # fmt: skip
            for step, status in enumerate(
                (PublicStatus.INVESTIGATING, PublicStatus.IDENTIFIED, PublicStatus.RESOLVED)
            ):
                updates.append(
                    PublicUpdate(public_incident=public, status=status, notify=False,
                                 message=f"Update {step} on incident {n}. " + "We are on it. " * 10)
                )  # fmt: skip
        AffectedComponent.objects.bulk_create(affected, batch_size=2000)
        ComponentStatusChange.objects.bulk_create(changes, batch_size=2000)
        PublicUpdate.objects.bulk_create(updates, batch_size=2000)
        # One incident open now, through the service as an operator would post it.
        public_incident_open(
            by=BENCH,
            title=f"{PREFIX} open: slow API",
            message="Responses are slow; we are investigating.",
            impact=Impact.MINOR,
            components={made[0]: ComponentStatus.DEGRADED},
            notify=False,
        )
        page_changed()
    return f"loaded in {time.perf_counter() - started:.1f} s"


def exists(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status == 200


class Tally:
    """One URL's requests and time over every round."""

    def __init__(self, path: str):
        self.path = path
        self.requests = 0
        self.seconds = 0.0
        self.errors = 0
        self.latencies: list[float] = []  # Python client: every request's; wrk: each round's p50/p99
        self.p50: list[float] = []
        self.p99: list[float] = []

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_round(tally: Tally, port: int, *, connections: int, seconds: float, gzip: bool) -> None:
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s", "--latency",
               f"http://127.0.0.1:{port}{tally.path}"]  # fmt: skip
    if gzip:
        command[1:1] = ["-H", "Accept-Encoding: gzip, deflate, br"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    unit = {"ms": 0.001, "s": 1.0, "m": 60.0}[done.group(3)]
    tally.requests += int(done.group(1))
    tally.seconds += float(done.group(2)) * unit
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    tally.errors += int(bad.group(1)) if bad else 0
    tally.errors += sum(int(g) for g in errors.groups()) if errors else 0
    for name, found in (("50%", tally.p50), ("99%", tally.p99)):
        value, unit = re.search(rf"{name}\s+([\d.]+)(us|ms|s)", output).groups()
        found.append(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit])


def python_round(tally: Tally, port: int, *, connections: int, seconds: float, gzip: bool) -> None:
    """Without Accept-Encoding (http.client's plain requests), whatever `gzip` says."""
    phase = Phase(tally.path, port, lambda t, i: ("GET", tally.path, None), expect=200,
                  threads=connections, seconds=seconds).run()  # fmt: skip
    tally.requests += len(phase.latencies)
    tally.seconds += phase.elapsed
    tally.errors += len(phase.errors)
    tally.p50.append(phase.percentile(50))
    tally.p99.append(phase.percentile(99))


def main() -> None:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5, help="per URL per round")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--workers", type=int, default=2 * cpus, help="gunicorn workers (default 2 x CPUs)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--python-client", action="store_true", help="threads instead of wrk (no gzip)")
    parser.add_argument("--identity", action="store_true", help="ask for uncompressed answers")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    call_command("migrate", verbosity=0, interactive=False)
    # Production serves the stylesheet's hashed name from collectstatic's manifest.
    call_command("collectstatic", verbosity=0, interactive=False)
    how = load(components=args.components, incidents=args.incidents, reload=args.reload)
    with transaction.atomic():  # Pages cached by an earlier run (older code, say) are not served.
        page_changed()
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    gzip = use_wrk and not args.identity
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    logs = Path(settings.VAR_DIR) / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    processes = Processes()
    tallies = [Tally(TRIVIAL)] + [Tally(path) for path in PAGES]
    missing = []
    try:
        log = logs / "gunicorn-statuspage.log"
        command = [
            str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application",
            "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
            "--worker-class", "gthread", "--threads", str(args.threads),
            "--keep-alive", "30", "--backlog", "2048", "--log-level", "warning",
        ]  # fmt: skip
        gunicorn = processes.start(command, log)
        wait_for_http(args.port, gunicorn, log)
        print(
            f"Status page: {args.components} components, {args.incidents} past incidents ({how}); "
            f"{connection.vendor}, cache {cache}; gunicorn {args.workers} gthread workers x {args.threads} "
            f"threads; {args.connections} keep-alive connections ({'wrk' if use_wrk else 'Python threads'}, "
            f"{'Accept-Encoding: gzip as browsers send' if gzip else 'no Accept-Encoding'}); "
            f"{args.rounds} rounds of {args.seconds:g} s per URL; {cpus} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}.",
            flush=True,
        )
        for tally in list(tallies):
            if not exists(args.port, tally.path):  # also warms each worker's first build
                missing.append(tally.path)
                tallies.remove(tally)
        measure = wrk_round if use_wrk else python_round
        for _ in range(args.rounds):
            for tally in tallies:
                measure(tally, args.port, connections=args.connections, seconds=args.seconds, gzip=gzip)
    finally:
        processes.stop_all()

    trivial = tallies[0] if tallies and tallies[0].path == TRIVIAL else None
    print()
    print(f"  {'URL':<32}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}   of trivial")
    met = trivial is not None
    for tally in tallies:
        share = tally.rate / trivial.rate if trivial and trivial.rate else 0.0
        verdict = ""
        if tally is not trivial:
            ok = share >= GOAL_SHARE and tally.errors == 0
            met = met and ok
            verdict = f"{share:6.0%}  (goal >= {GOAL_SHARE:.0%}: {'ok' if ok else 'FAIL'})"
        print(
            f"  {tally.path:<32}{tally.rate:>10,.0f}{percentile(tally.p50, 50):>9.1f}"
            f"{max(tally.p99, default=float('nan')):>9.1f}{tally.errors:>8}   {verdict}"
        )
    for path in missing:
        print(f"  {path:<32}{'not there (not a 200): not measured':>40}")
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
