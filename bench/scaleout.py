"""Scale-out: two gunicorn instances and three Celery workers on one Redis and one PostgreSQL, under a
sustained mixed stream of alerts, then checks that concurrency broke nothing. Prints throughput for
information and PASS/FAIL for each check.

    .venv/bin/python bench/scaleout.py [--seconds 30] [--rate 40] [--ports 9510,9511]
                                       [--gunicorn-workers 2] [--worker-concurrency 2]

The stack: gunicorn serving config.wsgi twice (two instances, as behind a load balancer) and three
`celery -A config worker` processes on every queue, against PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mitigate_bench_scaleout, created and migrated when missing) and
Redis as broker, cache and rate limiter (REDIS_URL, default redis://127.0.0.1:6379/12, which the
bench empties first: it must be a database of its own). Only public entry points: the webhook URL,
the worker command, and the models to check the result.

The stream (client threads, half on each gunicorn, --rate requests a second in all): alerts that
join the incident of their group (3 per request, a random one of about --rate groups), alerts that
open an incident each, resolves of alerts whose incident is open, and alerts whose rule opens an
incident and runs an immediate automated response (a local `true`). Each run makes a source and
rules of its own; earlier runs' rows change nothing but table size.

After the stream it waits until every alert is processed and every run finished, then checks:
every request answered 202; every alert stored once and its payload with it; every alert
processed once (one timeline entry per change); every alert that opens an incident opened its own;
the alerts of a group joined one incident, no group has two; every automated run requested once,
run once, finished once; and no lock, deadlock or serialization error (nor any other error) in the
gunicorn and worker logs, which are kept in a folder the bench names. On this machine (its cores
shared by the load, the servers and the database) the figures say little about scaling; the checks
say whether it is safe. Every process is stopped at the end, also on error or Ctrl-C.
"""

import argparse
import os
import re
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "false"  # production: no query log, no debug cursor (the .env has it on)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mitigate_bench_scaleout")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
os.environ["ALLOW_LOCAL_PROVIDER"] = "true"  # the automated response runs `true` on the worker
os.environ.setdefault("LOG_LEVEL", "WARNING")  # warnings and errors are what the logs are read for
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="mitigate-scaleout-"))

from bench.databases import ensure_database  # noqa: E402

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from actions.choices import ProviderKind, RunStatus, TargetKind  # noqa: E402
from actions.models import ActionRun, Provider, StepRun  # noqa: E402
from actions.services import action_save, provider_save  # noqa: E402
from alerts.choices import AlertStatus  # noqa: E402
from alerts.models import Alert, AlertPayload, TriggeredRun  # noqa: E402
from alerts.services import alert_rule_save, alert_source_create  # noqa: E402
from bench.scaleout_load import (  # noqa: E402
    Processes,
    Sent,
    Stream,
    cpu_snapshot,
    cpu_used,
    percentile,
    wait_for_http,
)
from common.actor import Actor, Source  # noqa: E402
from incidents.choices import EventKind  # noqa: E402
from incidents.models import Incident, TimelineEvent  # noqa: E402

BENCH = Actor.system(source=Source.CLI, label="bench")
WORKERS = 3
FINISHED = (
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.CANCELLED,
    RunStatus.ABANDONED,
)
# What PostgreSQL, psycopg and SQLite say when concurrency goes wrong.
LOCK_ERRORS = re.compile(
    r"deadlock|could not serialize|serialization failure|lock ?timeout|locknotavailable|"
    r"could not obtain lock|database is locked|canceling statement due to lock",
    re.IGNORECASE,
)
OTHER_ERRORS = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|Error:|exception", re.IGNORECASE)


def setup(run_id: str) -> tuple[str, Alert]:
    """A source, a local provider and a `true` action, and the rules the stream's kinds match."""
    source, token = alert_source_create(
        by=BENCH, name=f"scale-out {run_id}", kind="alertmanager", rate_limit_per_minute=10**9
    )
    provider = Provider.objects.filter(name="scaleout-local").first() or provider_save(
        by=BENCH, data={"name": "scaleout-local", "kind": ProviderKind.LOCAL}
    )
    action = action_save(
        by=BENCH,
        data={"name": f"scale-out true {run_id}"},
        steps=[{"name": "true", "target_kind": TargetKind.PROVIDER, "provider": provider, "command": "true"}],
    )
    rules = {
        "join": {"incident_policy": "attach", "group_by": ["bench_run", "group"]},
        "open": {"incident_policy": "create"},
        "respond": {"incident_policy": "create"},
    }
    for order, (kind, fields) in enumerate(rules.items()):
        alert_rule_save(
            by=BENCH,
            data={
                "name": f"scale-out {kind} {run_id}",
                "order": order,
                "matchers": [
                    {"label": "bench_run", "op": "eq", "value": run_id},
                    {"label": "scale_kind", "op": "eq", "value": kind},
                ],
                **fields,
            },
            responses=[{"action": action, "trigger": "immediate"}] if kind == "respond" else None,
        )
    return token, source


def all_queues() -> str:
    return ",".join(sorted({route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}))


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def wait_until_done(source, seconds: float) -> float:
    """Until every alert of the source is processed (or failed) and every automated run finished;
    returns how long that took."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        pending = Alert.objects.filter(
            source=source, processed=False, processing_failed_at__isnull=True
        ).count()
        running = (
            ActionRun.objects.filter(triggered_by__alert__source=source).exclude(status__in=FINISHED).count()
        )
        if not pending and not running:
            return time.monotonic() - began
        time.sleep(0.5)
    return float("nan")


# --- checks ---------------------------------------------------------------------------------------


def checks(source, sent: Sent, logs: list[Path]) -> list[tuple[str, bool, str]]:
    results = []
    fired = {kind: set(prints) for kind, prints in sent.fired.items()}
    every = set().union(*fired.values()) if fired else set()
    resolved = set(sent.resolved)
    results.append(
        (
            "every request answered 202",
            not sent.errors,
            f"{sum(sent.accepted.values())} accepted, {len(sent.errors)} not"
            + (f"; first: {sent.errors[0]}" if sent.errors else ""),
        )
    )

    rows = list(
        Alert.objects.filter(source=source).values(
            "pk",
            "fingerprint",
            "status",
            "occurrence_count",
            "processed",
            "processing_failed_at",
            "incident_id",
            "opened_incident",
        )
    )
    by_print = defaultdict(list)
    for row in rows:
        by_print[row["fingerprint"]].append(row)
    twice = [p for p, found in by_print.items() if len(found) > 1]
    missing = every - set(by_print)
    unexpected = set(by_print) - every
    recounted = [p for p, found in by_print.items() if any(r["occurrence_count"] != 1 for r in found)]
    payloads = AlertPayload.objects.filter(source=source).count()
    requests = sum(sent.accepted.values())
    results.append(
        (
            "every alert stored once",
            not (twice or missing or unexpected or recounted),
            f"{len(every)} alerts sent, {len(rows)} rows: {len(twice)} stored twice, {len(missing)} missing, "
            f"{len(unexpected)} unexpected, {len(recounted)} counted more than once",
        )
    )
    results.append(
        (
            "every request's payload stored once",
            payloads == requests,
            f"{requests} requests accepted, {payloads} payload rows",
        )
    )
    not_resolved = [
        p for p in resolved if by_print.get(p) and by_print[p][0]["status"] != AlertStatus.RESOLVED
    ]
    results.append(
        (
            "every resolve stored",
            not not_resolved,
            f"{len(resolved)} resolves, {len(not_resolved)} not stored",
        )
    )

    # Processed once: each change processed, and one timeline entry for each (attached, resolved).
    unprocessed = [r for r in rows if not r["processed"] or r["processing_failed_at"]]
    incident_ids = {r["incident_id"] for r in rows if r["incident_id"]}
    events = Counter()
    for kind, details in TimelineEvent.objects.filter(
        incident_id__in=incident_ids, kind__in=[EventKind.ALERT_ATTACHED, EventKind.ALERT_RESOLVED]
    ).values_list("kind", "details"):
        events[(kind, (details or {}).get("alert"))] += 1
    pk_of = {r["fingerprint"]: r["pk"] for r in rows}
    wrong_attached = [p for p in every if events[(EventKind.ALERT_ATTACHED, pk_of.get(p))] != 1]
    wrong_resolved = [p for p in resolved if events[(EventKind.ALERT_RESOLVED, pk_of.get(p))] != 1]
    results.append(
        (
            "every alert processed once",
            not (unprocessed or wrong_attached or wrong_resolved),
            f"{len(unprocessed)} unprocessed or failed; {len(wrong_attached)} alerts without exactly one "
            f"'attached' entry, {len(wrong_resolved)} resolves without exactly one 'resolved' entry",
        )
    )

    # Incidents: one per opening alert, one per group, each alert on exactly one.
    row_of = {r["fingerprint"]: r for r in rows}
    openers = fired.get("open", set()) | fired.get("respond", set())
    not_opened = [
        p
        for p in openers
        if not (row_of.get(p) and row_of[p]["opened_incident"] and row_of[p]["incident_id"])
    ]
    opened_ids = [row_of[p]["incident_id"] for p in openers if p in row_of and row_of[p]["incident_id"]]
    shared = len(opened_ids) - len(set(opened_ids))
    results.append(
        (
            "every opening alert opened an incident of its own",
            not not_opened and not shared,
            f"{len(openers)} alerts: {len(not_opened)} opened none, {shared} share one",
        )
    )
    per_group = defaultdict(set)
    openers_per_group = Counter()
    lost = []
    for p in fired.get("join", set()):
        row = row_of.get(p)
        if not row or not row["incident_id"]:
            lost.append(p)
            continue
        per_group[sent.groups[p]].add(row["incident_id"])
        openers_per_group[sent.groups[p]] += row["opened_incident"]
    split = {g: ids for g, ids in per_group.items() if len(ids) != 1}
    wrong_openers = {g: n for g, n in openers_per_group.items() if n != 1}
    joined_into_openers = set().union(*per_group.values()) & set(opened_ids) if per_group else set()
    results.append(
        (
            "the alerts of a group joined one incident, none has two",
            not (lost or split or wrong_openers or joined_into_openers),
            f"{len(fired.get('join', ()))} alerts in {len(per_group)} groups: {len(lost)} on no incident, "
            f"{len(split)} groups with more than one incident, {len(wrong_openers)} groups not opened "
            f"exactly once, {len(joined_into_openers)} joined another kind's incident",
        )
    )
    run_id = source.name.split()[-1]  # "scale-out <run id>"
    incidents = Incident.objects.filter(title__startswith=f"ScaleOut-{run_id}").count()
    expected = len(openers) + len(per_group)
    results.append(
        ("no incident besides those", incidents == expected, f"{incidents} incidents, {expected} expected")
    )

    # Automated runs: requested once per alert, run once, finished once.
    respond = fired.get("respond", set())
    triggered = Counter(
        TriggeredRun.objects.filter(alert__source=source, run__isnull=False).values_list(
            "alert__fingerprint", flat=True
        )
    )
    runs = list(
        ActionRun.objects.filter(triggered_by__alert__source=source).values("pk", "status", "incident_id")
    )
    steps = Counter(StepRun.objects.filter(run__in=[r["pk"] for r in runs]).values_list("run_id", flat=True))
    run_events = Counter(
        (kind, (details or {}).get("action_run"))
        for kind, details in TimelineEvent.objects.filter(
            incident_id__in={r["incident_id"] for r in runs},
            kind__in=[EventKind.ACTION_STARTED, EventKind.ACTION_FINISHED],
        ).values_list("kind", "details")
    )
    wrong_requests = [p for p in respond if triggered[p] != 1]
    not_succeeded = [r for r in runs if r["status"] != RunStatus.SUCCEEDED]
    wrong_steps = [r for r in runs if steps[r["pk"]] != 1]
    wrong_events = [
        r
        for r in runs
        if run_events[(EventKind.ACTION_STARTED, r["pk"])] != 1
        or run_events[(EventKind.ACTION_FINISHED, r["pk"])] != 1
    ]
    results.append(
        (
            "every automated run requested once, run once, finished once",
            not (wrong_requests or not_succeeded or wrong_steps or wrong_events)
            and len(runs) == len(respond),
            f"{len(respond)} alerts, {len(runs)} runs: {len(wrong_requests)} not requested exactly once, "
            f"{len(not_succeeded)} not succeeded, {len(wrong_steps)} without exactly one step, "
            f"{len(wrong_events)} without one start and one finish",
        )
    )

    lock_lines, other_lines = [], []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if LOCK_ERRORS.search(line):
                lock_lines.append(f"{log.name}: {line.strip()[:200]}")
            elif OTHER_ERRORS.search(line):
                other_lines.append(f"{log.name}: {line.strip()[:200]}")
    results.append(
        (
            "no lock, deadlock or serialization error in the logs",
            not lock_lines,
            f"{len(lock_lines)} lines" + (f"; first: {lock_lines[0]}" if lock_lines else ""),
        )
    )
    results.append(
        (
            "no other error in the logs",
            not other_lines,
            f"{len(other_lines)} lines" + (f"; first: {other_lines[0]}" if other_lines else ""),
        )
    )
    return results


def figures(source, sent: Sent, drain: float, cpu: dict[str, float]) -> None:
    requests = sum(sent.accepted.values())
    alerts = sum(sent.alerts_accepted.values())
    print(
        f"  ingest: {requests / sent.elapsed:,.1f} requests/s, {alerts / sent.elapsed:,.1f} alerts/s accepted"
    )
    for port in sorted(sent.accepted):
        print(f"    gunicorn :{port}: {sent.accepted[port] / sent.elapsed:,.1f} requests/s")
    print(
        f"    latency p50 {percentile(sent.latencies, 50):.1f} ms, "
        f"p99 {percentile(sent.latencies, 99):.1f} ms"
    )
    lags = [
        (processed - received).total_seconds()
        for processed, received in Alert.objects.filter(source=source, status=AlertStatus.FIRING).values_list(
            "processed_at", "last_received_at"
        )
        if processed
    ]
    print(
        f"  processing: lag (stored -> processed) p50 {percentile(lags, 50):.2f} s, "
        f"p95 {percentile(lags, 95):.2f} s; backlog drained {drain:.1f} s after the stream ended"
    )
    first_steps = [
        (started - received).total_seconds() * 1000
        for started, received in StepRun.objects.filter(run__triggered_by__alert__source=source).values_list(
            "started_at", "run__triggered_by__alert__received_at"
        )
        if started
    ]
    print(
        f"  alert -> first step started: p50 {percentile(first_steps, 50):.0f} ms, "
        f"p95 {percentile(first_steps, 95):.0f} ms ({len(first_steps)} runs)"
    )
    total = sum(cpu.values()) or 1.0
    print(f"  CPU seconds during the stream ({os.cpu_count()} CPUs x {sent.elapsed:.0f} s):")
    for name, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"    {name:<28}{seconds:>8.1f} s  {seconds / total:>5.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="length of the stream")
    parser.add_argument("--rate", type=float, default=40, help="requests per second, both gunicorns together")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--ports", default="9510,9511", help="the two gunicorns' ports")
    parser.add_argument("--gunicorn-workers", type=int, default=2, help="per gunicorn (gthread, 4 threads)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="per Celery worker")
    parser.add_argument("--drain-seconds", type=float, default=300, help="how long to wait for processing")
    args = parser.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    if not settings.REDIS_URL:
        raise SystemExit("REDIS_URL must name a Redis database of the bench's own")

    # Ctrl-C raises KeyboardInterrupt; make a plain kill do the same so `finally` stops the children.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    call_command("migrate", verbosity=0, interactive=False)
    flush_redis()
    run_id = uuid.uuid4().hex[:10]
    token, source = setup(run_id)
    logs = Path(settings.VAR_DIR) / "scaleout-logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    processes = Processes()
    try:
        roots = {"gunicorn (2 instances)": [], "celery (3 workers)": []}
        for port in ports:
            command = [
                str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", str(args.gunicorn_workers),
                "--worker-class", "gthread", "--threads", "4",
                "--keep-alive", "30", "--backlog", "2048", "--log-level", "warning",
            ]  # fmt: skip
            roots["gunicorn (2 instances)"].append(
                processes.start(command, logs / f"gunicorn-{port}.log", env).pid
            )
        for n in range(WORKERS):
            command = [
                str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", all_queues(),
                "-n", f"scaleout{n}-{run_id}@%h", "--concurrency", str(args.worker_concurrency),
                "--loglevel", "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip",
            ]  # fmt: skip
            roots["celery (3 workers)"].append(processes.start(command, logs / f"celery-{n}.log", env).pid)
        for port in ports:
            wait_for_http(port, processes)
        # Each worker says it is ready by pinging back: wait until all three answer.
        deadline = time.monotonic() + 60
        from config.celery import app

        while time.monotonic() < deadline:
            processes.check_alive()
            replies = app.control.ping(timeout=1.0) or []
            if sum(1 for reply in replies for name in reply if run_id in name) >= WORKERS:
                break
        else:
            raise SystemExit(f"the workers did not answer within 60 s; see {logs}")
        print(
            f"2 gunicorn x {args.gunicorn_workers} gthread workers x 4 threads (ports {args.ports}), "
            f"{WORKERS} Celery workers x {args.worker_concurrency} on {all_queues()}; "
            f"PostgreSQL {settings.DATABASES['default']['NAME']}, Redis {settings.REDIS_URL}; "
            f"{os.cpu_count()} CPUs",
            flush=True,
        )
        print(
            f"stream: {args.rate:g} requests/s for {args.seconds:g} s from {args.threads} threads", flush=True
        )

        stream = Stream(
            run_id=run_id,
            path=f"/hooks/{token}/",
            ports=ports,
            threads=args.threads,
            rate=args.rate,
            seconds=args.seconds,
        )
        offered: set[str] = set()

        def offer_resolves() -> None:
            """Alerts whose firing was processed and opened an incident may be resolved now (a
            resolve that overtook its firing would leave nothing to check)."""
            if len(stream.resolvable) >= 50:
                return
            processed = Alert.objects.filter(
                source=source,
                fingerprint__startswith=f"{run_id}-open-",
                status=AlertStatus.FIRING,
                processed=True,
                opened_incident=True,
            ).values_list("fingerprint", flat=True)
            for fingerprint in set(processed) - offered:
                offered.add(fingerprint)
                stream.resolvable.append(fingerprint)

        before = cpu_snapshot(roots)
        sent = stream.run(offer_resolves)
        cpu = cpu_used(before, cpu_snapshot(roots))
        print(
            f"stream done: {sum(sent.accepted.values())} requests accepted; waiting for processing",
            flush=True,
        )
        drain = wait_until_done(source, args.drain_seconds)
    finally:
        processes.stop_all()
        connection.close()

    print()
    figures(source, sent, drain, cpu)
    print()
    results = checks(source, sent, sorted(logs.glob("*.log")))
    for name, ok, detail in results:
        print(f"  {'PASS' if ok else 'FAIL':<5} {name}: {detail}")
    print(f"  logs: {logs}")
    if not all(ok for _, ok, _ in results):
        raise SystemExit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
