"""How fast the alert webhook takes alerts in, beside its floor. Prints figures and the goals they
are held to; asserts nothing, but says FAIL where one is missed.

    .venv/bin/python bench/ingest.py [--port 8791] [--workers 4] [--threads 4] [--connections 8]
                                     [--seconds 5] [--rounds 2] [--batch 100] [--repeats 100]

The production stack on this machine: gunicorn (gthread, --workers x --threads) serving config.wsgi
against PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/mitigate_bench, created
and migrated when missing) with Redis as cache, rate limiter and broker (REDIS_URL, default
redis://127.0.0.1:6379/2). Beside it, on --port + 1, the same gunicorn serves the floor
(bench/floor_app.py): the same body parsed and its alerts upserted with one statement into a table
of the same shape, nothing else.

wrk (a C load generator, bench/ingest_wrk.lua) keeps --connections keep-alive connections busy on,
in turn and for --rounds alternating rounds of --seconds each:
  trivial         GET /healthz on Mitigate: what Django under gunicorn answers at best here;
  floor single    one alert per request, a fingerprint never sent before each time;
  Mitigate single the same to POST /hooks/<token>/ (a source of this run's own);
  floor batch     --batch alerts per request (alerts/s counts alerts);
  Mitigate batch  the same to Mitigate.
After each phase it checks what was answered: every alert answered 202 is stored exactly once, with
its request's raw payload row, committed by the time the answer arrived (read from another
connection once the phase ends), and its processing is guaranteed to start: a Celery message in
Redis or an outbox row names it (the sweeper is the backstop for alerts stored unprocessed). At the
end, one payload posted --repeats times by concurrent clients must be one alert counted that often.

The load generator runs on the same machine as the servers and the database: its CPU use lowers
every figure alike, which is why they are compared side by side rather than to constants. The
alert-to-first-step latency is bench/first_step.py's. gunicorn is stopped at the end, also on error
or Ctrl-C.
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mitigate_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
os.environ["DEBUG"] = "false"  # production: no query log, no debug cursor (a worktree's .env has it on)

GOAL_SINGLE_SHARE = 0.5  # of the floor's requests/s, one alert per request
GOAL_BATCH_SHARE = 0.5  # of the floor's alerts/s, --batch alerts per request
GOAL_P99_MS = 100
MESSAGE_WAIT_SECONDS = 10  # for every accepted alert's message to be in Redis (or the outbox)

from bench.databases import ensure_database  # noqa: E402

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from alerts.models import Alert, AlertPayload  # noqa: E402
from alerts.services import alert_source_create  # noqa: E402
from bench.floor_app import FLOOR_TABLE_DDL, TABLE  # noqa: E402
from bench.ingest_load import Processes, alertmanager_body, purge_queues, wait_for_http  # noqa: E402
from common.actor import Actor, Source  # noqa: E402
from common.models import OutboxMessage  # noqa: E402

BENCH = Actor.system(source=Source.CLI, label="bench")
PROCESS_TASK = "alerts.tasks.process_alerts"
WRK_SCRIPT = ROOT / "bench" / "ingest_wrk.lua"


# --- load -----------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One kind of request, run once per round by wrk; the rounds' results add up."""

    name: str
    port: int
    path: str
    batch: int  # alerts per request; 0: GET
    expect: int
    checks: str = ""  # "mitigate", "floor" or "" (nothing stored)
    requests: int = 0
    seconds: float = 0.0
    p50s: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def alerts_per_s(self) -> float:
        return self.requests_per_s * self.batch

    @property
    def p99(self) -> float:
        """The worst round's: a goal met in one round and missed in the other is missed."""
        return max(self.p99s, default=float("nan"))


def wrk(phase: Phase, prefix: str, *, connections: int, seconds: float) -> dict:
    """Run wrk once for `phase`; its summary (bench/ingest_wrk.lua's done())."""
    command = [
        shutil.which("wrk") or "wrk", "-t", str(connections), "-c", str(connections),
        "-d", f"{seconds:g}s", "--timeout", "10s", "-s", str(WRK_SCRIPT),
        f"http://127.0.0.1:{phase.port}{phase.path}", "--", prefix, str(phase.batch), str(phase.expect),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    result = json.loads(line[4:])
    phase.requests += result["requests"]
    phase.seconds += result["duration_us"] / 1e6
    phase.p50s.append(result["p50_us"] / 1000)
    phase.p99s.append(result["p99_us"] / 1000)
    socket_errors = {k: result[k] for k in ("connect", "read", "write", "timeout") if result[k]}
    if socket_errors:
        phase.errors.append(f"socket errors {socket_errors}")
    for thread in result["threads"]:
        for refusal in filter(None, thread["refused"].split(",")):
            phase.errors.append(f"thread {thread['id']} request {refusal}")
    return result


def answered(result: dict, prefix: str, batch: int) -> tuple[set[str], set[str]]:
    """The fingerprints of the requests answered as expected, and those of each thread's request in
    flight when wrk stopped (it may have been stored, unanswered)."""
    expected, in_flight = set(), set()
    for thread in result["threads"]:
        tid, count = thread["id"], thread["answered"]
        refused = {int(item.split(":")[0]) for item in filter(None, thread["refused"].split(","))}
        for i in range(count):
            if i not in refused:
                expected.update(f"{prefix}-{tid}-{i}-{k}" for k in range(batch))
        in_flight.update(f"{prefix}-{tid}-{count}-{k}" for k in range(batch))
    return expected, in_flight


# --- checks ---------------------------------------------------------------------------------------


def check_mitigate(source, phase: Phase, prefix: str, result: dict, client: redis.Redis) -> None:
    """Every alert answered 202 stored once (occurrence 1) with its request's raw payload row, and
    named by a Celery message or an outbox row."""
    expected, in_flight = answered(result, prefix, phase.batch)
    rows = list(
        Alert.objects.filter(source=source, fingerprint__startswith=f"{prefix}-").values_list(
            "id", "fingerprint", "occurrence_count", "payload_id", "processed", "processing_failed_at"
        )
    )
    stored = [row[1] for row in rows]
    missing = expected - set(stored)
    extra = set(stored) - expected - in_flight
    if missing or extra or len(stored) != len(set(stored)):
        phase.problems.append(
            f"{len(expected)} alerts answered 202, {len(stored)} rows ({len(set(stored))} distinct, "
            f"{len(missing)} missing, {len(extra)} never sent)"
        )
    if any(row[2] != 1 for row in rows):
        phase.problems.append("an alert sent once has occurrence_count != 1")
    if any(row[4] or row[5] for row in rows):
        phase.problems.append("an alert no worker saw is marked processed or failed")

    # The raw payload rows: one per request, holding exactly the alerts that point to it.
    by_payload: dict[int | None, set[str]] = {}
    for _, fingerprint, _, payload_id, _, _ in rows:
        by_payload.setdefault(payload_id, set()).add(fingerprint)
    if None in by_payload:
        phase.problems.append(f"{len(by_payload[None])} alerts have no payload row")
    bodies = dict(
        AlertPayload.objects.filter(pk__in=[pk for pk in by_payload if pk]).values_list("id", "body")
    )
    wrong = sum(
        1
        for pk, fingerprints in by_payload.items()
        if pk and {alert["fingerprint"] for alert in bodies[pk]["alerts"]} != fingerprints
    )
    if wrong or len(bodies) < len(expected) // max(phase.batch, 1):
        phase.problems.append(
            f"{len(bodies)} payload rows for {len(expected) // phase.batch} requests, {wrong} not "
            "holding their alerts as sent"
        )

    # Processing starts: each stored alert has a message on its way (or kept in the outbox).
    ids = {row[0] for row in rows}
    deadline = time.monotonic() + MESSAGE_WAIT_SECONDS
    while True:
        queued = queued_alert_ids(client)
        kept = outbox_alert_ids()
        uncovered = ids - queued - kept
        if not uncovered or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    phase.notes.append(
        f"{len(ids & queued)} alerts with a message, {len(ids & kept - queued)} in the outbox, "
        f"{len(uncovered)} left to the sweeper"
    )
    if uncovered:
        phase.problems.append(f"{len(uncovered)} alerts with neither a message nor an outbox row")


def queued_alert_ids(client: redis.Redis) -> set[int]:
    """The alert ids the process_alerts messages waiting in Redis name."""
    ids: set[int] = set()
    for raw in client.lrange("default", 0, -1):
        message = json.loads(raw)
        if message.get("headers", {}).get("task") != PROCESS_TASK:
            continue
        _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        ids.update(kwargs["alert_ids"])
    return ids


def outbox_alert_ids() -> set[int]:
    ids: set[int] = set()
    for kwargs in OutboxMessage.objects.filter(task_name=PROCESS_TASK).values_list("kwargs", flat=True):
        ids.update(kwargs["alert_ids"])
    return ids


def check_floor(phase: Phase, prefix: str, result: dict) -> None:
    expected, in_flight = answered(result, prefix, phase.batch)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT fingerprint FROM {TABLE} WHERE fingerprint LIKE %s", [f"{prefix}-%"])
        stored = {row[0] for row in cursor.fetchall()}
    if not expected <= stored or stored - expected - in_flight:
        phase.problems.append(f"floor: {len(expected)} alerts answered, {len(stored)} rows")


def check_repeats(port: int, token: str, fingerprint: str, repeats: int, source) -> list[str]:
    """One payload posted `repeats` times by 8 concurrent clients: one alert, counted that often,
    and a payload row for every post."""
    body = alertmanager_body([fingerprint])

    def post(_: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", f"/hooks/{token}/", body=body, headers={"Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
        return status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(repeats)))
    problems = []
    if any(status != 202 for status in statuses):
        problems.append(f"answers {sorted(set(statuses))}")
    counts = list(
        Alert.objects.filter(source=source, fingerprint=fingerprint).values_list(
            "occurrence_count", flat=True
        )
    )
    if counts != [repeats]:
        problems.append(f"{len(counts)} alert rows counting {counts}, expected one counting {repeats}")
    payloads = AlertPayload.objects.filter(source=source, body__alerts__0__fingerprint=fingerprint).count()
    if payloads != repeats:
        problems.append(f"{payloads} payload rows for {repeats} posts")
    return problems


# --- main -----------------------------------------------------------------------------------------


def gunicorn_command(app: str, port: int, args: argparse.Namespace) -> list[str]:
    return [
        str(ROOT / ".venv/bin/gunicorn"), app, "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.threads),
        "--keep-alive", "30", "--backlog", "2048", "--log-level", "warning", "--no-control-socket",
    ]  # fmt: skip


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8791, help="Mitigate's; the floor's is the next one")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--connections", type=int, default=8, help="wrk's keep-alive connections")
    parser.add_argument("--seconds", type=float, default=5, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100, help="alerts per batch request")
    parser.add_argument("--repeats", type=int, default=100, help="posts of the one payload (dedupe)")
    args = parser.parse_args()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    # Ctrl-C raises KeyboardInterrupt; make a plain kill do the same so `finally` stops the children.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE_DDL)
    purge_queues()
    client = redis.Redis.from_url(settings.REDIS_URL)
    run_id = uuid.uuid4().hex[:10]
    source, token = alert_source_create(
        by=BENCH, name=f"bench {run_id}", kind="alertmanager", rate_limit_per_minute=10**9
    )
    logs = Path(settings.VAR_DIR) / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    mitigate_port, floor_port = args.port, args.port + 1
    hook, floor_hook = f"/hooks/{token}/", "/hooks/floor/"
    phases = [
        Phase("trivial view /healthz", mitigate_port, "/healthz", 0, 200),
        Phase("floor, 1 alert", floor_port, floor_hook, 1, 202, "floor"),
        Phase("Mitigate, 1 alert", mitigate_port, hook, 1, 202, "mitigate"),
        Phase(f"floor, {args.batch} alerts", floor_port, floor_hook, args.batch, 202, "floor"),
        Phase(f"Mitigate, {args.batch} alerts", mitigate_port, hook, args.batch, 202, "mitigate"),
    ]
    trivial, floor_single, single, floor_batch, batch = phases

    processes = Processes()
    try:
        mitigate_log, floor_log = logs / "gunicorn.log", logs / "gunicorn-floor.log"
        mitigate = processes.start(
            gunicorn_command("config.wsgi:application", mitigate_port, args), mitigate_log
        )
        # Not Mitigate's settings: gunicorn.conf.py then leaves the floor alone, and the floor
        # configures its own (bench/floor_app.py).
        floor_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.floor_app"}
        floor_command = gunicorn_command("bench.floor_app:application", floor_port, args)
        floor = processes.start(floor_command, floor_log, env=floor_env)
        wait_for_http(mitigate_port, mitigate, mitigate_log)
        wait_for_http_post(floor_port, floor, floor_log)
        print(
            f"gunicorn: {args.workers} gthread workers x {args.threads} threads each for Mitigate and "
            f"the floor; wrk, {args.connections} keep-alive connections; {args.rounds} rounds of "
            f"{args.seconds:g}s per phase; {os.cpu_count()} CPUs; PostgreSQL "
            f"{settings.DATABASES['default']['NAME']}, Redis {settings.REDIS_URL}",
            flush=True,
        )
        # Warm-up: workers import lazily and open their connections on first use.
        for phase in phases:
            warm = Phase(phase.name, phase.port, phase.path, phase.batch, phase.expect)
            wrk(warm, f"{run_id}-warm{phases.index(phase)}", connections=args.connections, seconds=1)
        purge_queues()

        for round_ in range(args.rounds):
            for index, phase in enumerate(phases):
                prefix = f"{run_id}-r{round_}p{index}"
                result = wrk(phase, prefix, connections=args.connections, seconds=args.seconds)
                if phase.checks == "mitigate":
                    check_mitigate(source, phase, prefix, result, client)
                    purge_queues()  # the next phase's messages are counted alone
                elif phase.checks == "floor":
                    check_floor(phase, prefix, result)
                print(
                    f"  round {round_ + 1} {phase.name:<24} {result['requests']:>7} requests  "
                    f"p99 {result['p99_us'] / 1000:7.1f} ms  {'; '.join(phase.notes[-1:])}",
                    flush=True,
                )
        repeat_problems = check_repeats(mitigate_port, token, f"{run_id}-repeat", args.repeats, source)
    finally:
        processes.stop_all()
        purge_queues()

    # --- report -----------------------------------------------------------------------------------
    print()
    print(f"  {'':<26}{'requests/s':>12}{'alerts/s':>12}{'p50 ms':>9}{'p99 ms':>9}")
    for phase in phases:
        alerts = f"{phase.alerts_per_s:,.0f}" if phase.batch else ""
        p50 = sum(phase.p50s) / len(phase.p50s)
        print(f"  {phase.name:<26}{phase.requests_per_s:>12,.0f}{alerts:>12}{p50:>9.1f}{phase.p99:>9.1f}")
    single_share = single.requests_per_s / floor_single.requests_per_s if floor_single.requests else 0
    batch_share = batch.alerts_per_s / floor_batch.alerts_per_s if floor_batch.requests else 0
    print(
        f"\n  floor single / trivial: {floor_single.requests_per_s / trivial.requests_per_s:.0%}   "
        f"Mitigate single / floor: {single_share:.0%}   Mitigate batch / floor: {batch_share:.0%}"
    )
    print()
    goals = [
        (
            f"singles >= {GOAL_SINGLE_SHARE:.0%} of the floor's requests/s",
            single_share >= GOAL_SINGLE_SHARE,
            f"{single_share:.0%} ({single.requests_per_s:,.0f} / {floor_single.requests_per_s:,.0f})",
        ),
        (
            f"{args.batch}-batches >= {GOAL_BATCH_SHARE:.0%} of the floor's alerts/s",
            batch_share >= GOAL_BATCH_SHARE,
            f"{batch_share:.0%} ({batch.alerts_per_s:,.0f} / {floor_batch.alerts_per_s:,.0f})",
        ),
        (f"single p99 < {GOAL_P99_MS} ms", single.p99 < GOAL_P99_MS, f"{single.p99:.1f} ms"),
        (f"batch p99 < {GOAL_P99_MS} ms", batch.p99 < GOAL_P99_MS, f"{batch.p99:.1f} ms"),
    ]
    for phase in phases:
        if phase.checks:
            goals.append(
                (
                    f"{phase.name}: stored exactly once",
                    not phase.problems,
                    "; ".join(phase.problems) or "yes" + (f" ({phase.notes[-1]})" if phase.notes else ""),
                )
            )
    goals.append(
        (
            f"same payload x{args.repeats} -> one alert",
            not repeat_problems,
            "; ".join(repeat_problems) or "yes",
        )
    )
    errors = [f"{phase.name}: {error}" for phase in phases for error in phase.errors]
    goals.append(
        (
            "no request failed",
            not errors,
            f"{len(errors)} failed" + (f"; first: {errors[0]}" if errors else ""),
        )
    )
    print("  goals")
    for name, ok, value in goals:
        print(f"  {verdict(ok):<5} {name:<48} {value}")


def wait_for_http_post(port: int, child, log: Path) -> None:
    """The floor has no /healthz: wait until it answers anything."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"the floor's gunicorn exited with {child.returncode}; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the floor did not answer within 30 s; see {log}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
