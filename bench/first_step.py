"""How soon an alert starts its automated response: the wall time from just before the webhook POST
to the first StepRun.started_at of the run an immediate automated response requested for it.
Prints figures and the goal; asserts nothing, but says FAIL where it is missed.

    .venv/bin/python bench/first_step.py [--alerts 50] [--spacing 0.1] [--port 8792]
                                         [--workers 2] [--concurrency 2]

The production stack on this machine: gunicorn serving config.wsgi (two sync workers: the POSTs are
sent one by one) against PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mitigate_bench, created and migrated when missing) with Redis as
cache, rate limiter and broker (REDIS_URL, default redis://127.0.0.1:6379/2), and real Celery
workers (`celery -A config worker -Q default,actions`). A rule matching only this run's alerts
requests a local `date +%s.%N` at once, with no incident: the command prints when its process
started, on the same machine and clock as this script.

Each alert is sent after the previous one's step finished (and --spacing more), so the figure is the
path's latency, not a queue's. The rows' own timestamps split it into hops: stored (the alert's
received_at), requested (the run's created_at, in processing), started (the run's started_at, in the
execute task), the first step's started_at (its row, written before the process starts) and the
process's own start.
gunicorn and the workers are stopped at the end, also on error or Ctrl-C.
"""

import argparse
import http.client
import os
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "false"  # production: no query log, no debug cursor (the .env has it on)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mitigate_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
os.environ["ALLOW_LOCAL_PROVIDER"] = "true"  # the automated response runs `true` on the worker
os.environ.setdefault("LOG_LEVEL", "WARNING")

GOAL_FIRST_STEP_P95_MS = 30
WAIT_S = 30
POLL_S = 0.01  # how often the step's row is looked for

from bench.databases import ensure_database  # noqa: E402

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from actions.choices import ProviderKind, TargetKind  # noqa: E402
from actions.models import Provider, StepRun  # noqa: E402
from actions.services import action_save, provider_save  # noqa: E402
from alerts.models import TriggeredRun  # noqa: E402
from alerts.services import alert_rule_save, alert_source_create  # noqa: E402
from bench.ingest_load import Processes, alertmanager_body, percentile, purge_queues, wait_for_http  # noqa: E402
from common.actor import Actor, Source  # noqa: E402

BENCH = Actor.system(source=Source.CLI, label="bench")
HOPS = ("stored", "requested", "run started", "step row", "process")


def response_setup(run_id: str) -> None:
    """A local provider, an action printing the time on it, and a rule matching only this run's alerts
    (label bench_run) with an immediate automated response and no incident."""
    provider = Provider.objects.filter(name="bench-local").first() or provider_save(
        by=BENCH, data={"name": "bench-local", "kind": ProviderKind.LOCAL}
    )
    action = action_save(
        by=BENCH,
        data={"name": f"bench-clock-{run_id}"},
        steps=[
            {
                "name": "clock",
                "target_kind": TargetKind.PROVIDER,
                "provider": provider,
                "command": "date +%s.%N",
            }
        ],
    )
    alert_rule_save(
        by=BENCH,
        data={
            "name": f"bench-{run_id}",
            "order": 0,
            "matchers": [{"label": "bench_run", "op": "eq", "value": run_id}],
            "incident_policy": "none",
        },
        responses=[{"action": action, "trigger": "immediate"}],
    )


def first_step_latencies(
    port: int, token: str, run_id: str, name: str, count: int, spacing: float
) -> tuple[list[float], list[tuple[float, ...]], int]:
    """Send `count` alerts one by one and wait for each one's first step to finish: ms from the POST
    to its process's start per alert, the ms of each hop (HOPS, each from the POST), and how many
    never ran within WAIT_S."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples, hops, lost = [], [], 0
    for n in range(count):
        fingerprint = f"{run_id}-{name}-{n}"
        body = alertmanager_body([fingerprint], labels={"bench_run": run_id})
        sent = datetime.now(UTC)
        conn.request("POST", f"/hooks/{token}/", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 202:
            raise SystemExit(f"latency alert answered {response.status}")
        deadline = time.monotonic() + WAIT_S
        step = None
        while step is None and time.monotonic() < deadline:
            step = (
                StepRun.objects.filter(
                    run__triggered_by__alert__fingerprint=fingerprint, finished_at__isnull=False
                )
                .order_by("started_at")
                .values_list("started_at", "stdout")
                .first()
            )
            if step is None:
                # The figure comes from the processes' own clocks, not from when this loop sees the
                # row: a slower poll biases nothing and leaves the two CPUs to the path measured.
                time.sleep(POLL_S)
        if step is None or not step[1].strip():
            lost += 1
        else:
            row_started, stdout = step
            process_started = datetime.fromtimestamp(float(stdout.strip()), UTC)
            samples.append((process_started - sent).total_seconds() * 1000)
            stored, requested, run_started = (
                TriggeredRun.objects.filter(alert__fingerprint=fingerprint)
                .values_list("alert__received_at", "run__created_at", "run__started_at")
                .get()
            )
            hops.append(
                tuple(
                    (at - sent).total_seconds() * 1000
                    for at in (stored, requested, run_started, row_started, process_started)
                )
            )
        time.sleep(spacing)
    conn.close()
    return samples, hops, lost


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--spacing", type=float, default=0.1, help="seconds between alerts")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    args = parser.parse_args()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    call_command("migrate", verbosity=0, interactive=False)
    purge_queues()
    run_id = uuid.uuid4().hex[:10]
    _, token = alert_source_create(
        by=BENCH, name=f"bench first step {run_id}", kind="alertmanager", rate_limit_per_minute=10**9
    )
    response_setup(run_id)
    logs = Path(settings.VAR_DIR) / "bench"
    logs.mkdir(parents=True, exist_ok=True)

    processes = Processes()
    try:
        gunicorn_log = logs / "first-step-gunicorn.log"
        gunicorn = processes.start(
            [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
             "--workers", str(args.workers), "--log-level", "warning"],
            gunicorn_log,
        )  # fmt: skip
        wait_for_http(args.port, gunicorn, gunicorn_log)
        worker_log = logs / "first-step-celery.log"
        processes.start(
            [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", "default,actions",
             "--concurrency", str(args.concurrency), "-n", f"bench-first-step-{run_id}@%h",
             "--loglevel", "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"],
            worker_log,
        )  # fmt: skip
        print(
            f"gunicorn {args.workers} sync workers; Celery {args.concurrency} processes on Redis "
            f"{settings.REDIS_URL}; PostgreSQL {settings.DATABASES['default']['NAME']}; "
            f"{os.cpu_count()} CPUs; {datetime.now(UTC):%H:%M:%S} UTC",
            flush=True,
        )
        # Warm-up alerts, waited for like the others: the worker is up and its connections open.
        warm, _, _ = first_step_latencies(args.port, token, run_id, "warm", 3, 0)
        if not warm:
            raise SystemExit(f"no warm-up alert started its step within {WAIT_S} s; see {worker_log}")
        latencies, hops, lost = first_step_latencies(
            args.port, token, run_id, "latency", args.alerts, args.spacing
        )
    finally:
        processes.stop_all()
        purge_queues()

    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print()
    print(
        f"  alert -> first step's process started: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"({len(latencies)} alerts, {lost} lost)"
    )
    print("  by hop, ms from the POST (p50 / p95):")
    for i, hop in enumerate(HOPS):
        values = [h[i] for h in hops]
        print(f"    {hop:<14}{percentile(values, 50):>8.1f}{percentile(values, 95):>8.1f}")
    print()
    print("  goals")
    ok = bool(latencies) and not lost and p95 < GOAL_FIRST_STEP_P95_MS
    print(f"  {verdict(ok):<5} alert -> first step p95 < {GOAL_FIRST_STEP_P95_MS} ms{'':<8}{p95:.1f} ms")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
