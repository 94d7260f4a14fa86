"""How fast the alert webhook takes alerts in, and how soon an alert starts its automated response.
Prints figures and the goals they are held to; asserts nothing, but says FAIL where one is missed.

    .venv/bin/python bench/ingest.py [--workers N] [--worker-class gthread|sync] [--threads 4]
                                     [--concurrency N] [--seconds 10] [--batch 100] [--latency-alerts 50]

The production stack on this machine: gunicorn serving config.wsgi against PostgreSQL
(DATABASE_URL, default postgres://postgres@127.0.0.1:5432/mitigate_bench, created and migrated when
missing) with Redis as cache, rate limiter and broker (REDIS_URL, default redis://127.0.0.1:6379/2).
Each run creates a source of its own, so earlier runs' rows change nothing but table size.

With the same number of client threads (one keep-alive http.client connection each), it measures
  trivial  GET /healthz: what Django under gunicorn answers at best on this machine;
  single   POST /hooks/<token>/ with one Alertmanager alert, a fingerprint of its own each time;
  batch    the same with --batch alerts per request (alerts/s counts alerts, not requests);
then checks every alert sent is stored exactly once with its payload row, and finally starts a real
Celery worker (`celery -A config worker -Q default,actions`) and times, for --latency-alerts alerts
sent one by one, the wall time from just before the POST to the first StepRun.started_at of the run
an immediate automated response (a local `true`) requested for it.

The client runs on the same machine as the server and the database: on a small machine its own CPU
use lowers every figure alike, which is why they are compared side by side rather than to a constant.
gunicorn and the worker are stopped at the end, also on error or Ctrl-C.
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
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mitigate_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
os.environ["ALLOW_LOCAL_PROVIDER"] = "true"  # the automated response runs `true` on the worker
os.environ.setdefault("LOG_LEVEL", "WARNING")  # one log line per stored alert would be the bench

GOAL_BATCH_ALERTS_PER_S = 10_000
GOAL_SINGLE_SHARE = 0.5  # of the trivial view's requests/s
GOAL_P99_MS = 100
GOAL_FIRST_STEP_P95_MS = 500


from bench.databases import ensure_database  # noqa: E402

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from actions.choices import ProviderKind, TargetKind  # noqa: E402
from actions.models import Provider, StepRun  # noqa: E402
from actions.services import action_save, provider_save  # noqa: E402
from alerts.models import Alert, AlertPayload  # noqa: E402
from alerts.services import alert_rule_save, alert_source_create  # noqa: E402
from bench.ingest_load import (  # noqa: E402
    Phase,
    Processes,
    alertmanager_body,
    percentile,
    purge_queues,
    wait_for_http,
)
from common.actor import Actor, Source  # noqa: E402

BENCH = Actor.system(source=Source.CLI, label="bench")


# --- checks ---------------------------------------------------------------------------------------


def check_stored(source, phases: list[tuple[Phase, str, int]]) -> list[str]:
    """Every alert answered 202 is one row with occurrence_count 1, and every such request one
    payload row with its alert count: (phase, fingerprint prefix, alerts per request)."""
    problems = []
    for phase, prefix, per_request in phases:
        expected = {f"{prefix}-{t}-{i}-{k}" for t, i in phase.sent_ok for k in range(per_request)}
        rows = list(
            Alert.objects.filter(source=source, fingerprint__startswith=f"{prefix}-").values_list(
                "fingerprint", "occurrence_count", "payload__alert_count"
            )
        )
        fingerprints = [row[0] for row in rows]
        if len(fingerprints) != len(expected) or set(fingerprints) != expected:
            problems.append(
                f"{phase.name}: {len(expected)} alerts answered 202, {len(fingerprints)} rows "
                f"({len(set(fingerprints))} distinct, {len(expected - set(fingerprints))} missing)"
            )
        if any(count != 1 for _, count, _ in rows):
            problems.append(f"{phase.name}: an alert sent once has occurrence_count != 1")
        if any(count != per_request for _, _, count in rows):
            problems.append(f"{phase.name}: an alert's payload row does not count {per_request} alerts")
        payloads = AlertPayload.objects.filter(source=source, alerts__fingerprint__startswith=f"{prefix}-")
        if payloads.distinct().count() != len(phase.sent_ok):
            stored = payloads.distinct().count()
            problems.append(
                f"{phase.name}: {len(phase.sent_ok)} requests answered 202, {stored} payload rows"
            )
    return problems


# --- alert to first step --------------------------------------------------------------------------


def first_step_latencies(
    port: int, token: str, run_id: str, name: str, count: int, spacing: float
) -> tuple[list[float], int]:
    """Send `count` alerts one by one and wait for each one's first step to start: ms per alert, and
    how many never started within 30 s."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples, lost = [], 0
    for n in range(count):
        fingerprint = f"{run_id}-{name}-{n}"
        body = alertmanager_body([fingerprint], labels={"bench_run": run_id})
        sent = datetime.now(UTC)
        conn.request("POST", f"/hooks/{token}/", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 202:
            raise SystemExit(f"latency alert answered {response.status}")
        deadline = time.monotonic() + 30
        started = None
        while started is None and time.monotonic() < deadline:
            started = (
                StepRun.objects.filter(
                    run__triggered_by__alert__fingerprint=fingerprint, started_at__isnull=False
                )
                .order_by("started_at")
                .values_list("started_at", flat=True)
                .first()
            )
            if started is None:
                time.sleep(0.005)
        if started is None:
            lost += 1
        else:
            samples.append((started - sent).total_seconds() * 1000)
        time.sleep(spacing)
    conn.close()
    return samples, lost


def response_setup(run_id: str) -> None:
    """A local provider, an action running `true` on it, and a rule matching only this run's latency
    alerts (label bench_run) with an immediate automated response and no incident."""
    provider = Provider.objects.filter(name="bench-local").first() or provider_save(
        by=BENCH, data={"name": "bench-local", "kind": ProviderKind.LOCAL}
    )
    action = action_save(
        by=BENCH,
        data={"name": f"bench-true-{run_id}"},
        steps=[{"name": "true", "target_kind": TargetKind.PROVIDER, "provider": provider, "command": "true"}],
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


# --- main -----------------------------------------------------------------------------------------


def row(name: str, rate: str, phase: Phase, note: str = "") -> str:
    return f"  {name:<26}{rate:>16}{phase.percentile(50):>10.1f}{phase.percentile(99):>10.1f}   {note}"


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def main() -> None:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2 * cpus, help="gunicorn workers (default 2 x CPUs)")
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--concurrency", type=int, default=0, help="client threads (default: workers x 2)")
    parser.add_argument("--seconds", type=float, default=10, help="per throughput phase")
    parser.add_argument("--batch", type=int, default=100, help="alerts per batch request")
    parser.add_argument("--latency-alerts", type=int, default=50)
    parser.add_argument("--spacing", type=float, default=0.1, help="seconds between latency alerts")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    concurrency = args.concurrency or 2 * args.workers
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")

    # Ctrl-C raises KeyboardInterrupt; make a plain kill do the same so `finally` stops the children.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    call_command("migrate", verbosity=0, interactive=False)
    purge_queues()
    run_id = uuid.uuid4().hex[:10]
    source, token = alert_source_create(
        by=BENCH, name=f"bench {run_id}", kind="alertmanager", rate_limit_per_minute=10**9
    )
    response_setup(run_id)
    logs = Path(settings.VAR_DIR) / "bench"
    logs.mkdir(parents=True, exist_ok=True)

    processes = Processes()
    try:
        gunicorn_log = logs / "gunicorn.log"
        command = [
            str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application",
            "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
            "--worker-class", args.worker_class, "--threads", str(args.threads),
            "--keep-alive", "30", "--backlog", "2048", "--log-level", "warning",
        ]  # fmt: skip
        gunicorn = processes.start(command, gunicorn_log)
        wait_for_http(args.port, gunicorn, gunicorn_log)
        print(
            f"gunicorn: {args.workers} {args.worker_class} workers"
            + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
            + f"; {concurrency} client threads; {args.seconds:g}s per phase; {cpus} CPUs; "
            f"PostgreSQL {settings.DATABASES['default']['NAME']}, Redis {settings.REDIS_URL}",
            flush=True,
        )

        hook, size = f"/hooks/{token}/", args.batch
        phase_args = {"threads": concurrency, "seconds": args.seconds}
        # A short warm-up: workers import lazily and open their database connections on first use.
        health = lambda t, i: ("GET", "/healthz", None)  # noqa: E731
        Phase("warm-up", args.port, health, expect=200, threads=concurrency, seconds=1).run()
        trivial = Phase("trivial view", args.port, health, expect=200, **phase_args)
        single = Phase(
            "single alert",
            args.port,
            lambda t, i: ("POST", hook, alertmanager_body([f"{run_id}-s-{t}-{i}-0"])),
            expect=202,
            **phase_args,
        )
        batch = Phase(
            f"batch of {args.batch}",
            args.port,
            lambda t, i: ("POST", hook, alertmanager_body([f"{run_id}-b-{t}-{i}-{k}" for k in range(size)])),
            expect=202,
            **phase_args,
        )
        for phase in (trivial, single, batch):
            phase.run()
            print(f"  {phase.name}: {len(phase.latencies)} requests, {len(phase.errors)} errors", flush=True)

        problems = check_stored(source, [(single, f"{run_id}-s", 1), (batch, f"{run_id}-b", args.batch)])

        # Alert to first step, with a real worker; the throughput phases' messages are dropped first.
        purge_queues()
        worker_log = logs / "celery.log"
        processes.start(
            [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", "default,actions",
             "--loglevel", "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"],
            worker_log,
        )  # fmt: skip
        # Two warm-up alerts, waited for like the others: the worker is up and its connections open.
        warm, _ = first_step_latencies(args.port, token, run_id, "warm", 2, 0)
        if not warm:
            raise SystemExit(f"no warm-up alert started its step within 30 s; see {worker_log}")
        latencies, lost = first_step_latencies(
            args.port, token, run_id, "latency", args.latency_alerts, args.spacing
        )
    finally:
        processes.stop_all()

    # --- report -----------------------------------------------------------------------------------
    batch_alerts_per_s = batch.requests_per_s * args.batch
    single_share = single.requests_per_s / trivial.requests_per_s if trivial.requests_per_s else 0.0
    print()
    print(f"  {'':<26}{'rate':>16}{'p50 ms':>10}{'p99 ms':>10}")
    print(row("trivial view (/healthz)", f"{trivial.requests_per_s:,.0f} req/s", trivial))
    print(
        row(
            "single-alert posts",
            f"{single.requests_per_s:,.0f} req/s",
            single,
            f"{single_share:.0%} of trivial",
        )
    )
    print(
        row(
            f"{args.batch}-alert batches",
            f"{batch_alerts_per_s:,.0f} alerts/s",
            batch,
            f"{batch.requests_per_s:,.0f} req/s",
        )
    )
    print()
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(
        f"  alert -> first step started: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
        f"({len(latencies)} alerts, {lost} never started)"
    )
    print()
    errors = trivial.errors + single.errors + batch.errors
    worst_p99 = max(single.percentile(99), batch.percentile(99))
    goals = [
        (
            f"batches >= {GOAL_BATCH_ALERTS_PER_S:,} alerts/s",
            batch_alerts_per_s >= GOAL_BATCH_ALERTS_PER_S,
            f"{batch_alerts_per_s:,.0f}",
        ),
        (
            f"singles >= {GOAL_SINGLE_SHARE:.0%} of the trivial view",
            single_share >= GOAL_SINGLE_SHARE,
            f"{single_share:.0%}",
        ),
        (f"ingest p99 < {GOAL_P99_MS} ms", worst_p99 < GOAL_P99_MS, f"{worst_p99:.1f} ms"),
        (
            f"alert -> first step p95 < {GOAL_FIRST_STEP_P95_MS} ms",
            bool(latencies) and not lost and p95 < GOAL_FIRST_STEP_P95_MS,
            f"{p95:.0f} ms",
        ),
        ("every alert stored exactly once", not problems, "; ".join(problems) or "yes"),
        (
            "no request failed",
            not errors,
            f"{len(errors)} failed" + (f"; first: {errors[0]}" if errors else ""),
        ),
    ]
    print("  goals")
    for name, ok, value in goals:
        print(f"  {verdict(ok):<5} {name:<44} {value}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
