"""How soon an incident's notification reaches a webhook subscriber. Prints figures and the goal they
are held to; asserts nothing, but says FAIL where the goal or a check is missed.

    .venv/bin/python bench/notifications.py [--incidents 100] [--spacing 0.1] [--no-burst] [--concurrency 4]

The production stack on this machine: PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mitigate_ndemo_bench, created and migrated when missing) and Redis
as the broker (REDIS_URL, default redis://127.0.0.1:6379/9, emptied at the start: it is the bench's),
with a real Celery worker on the notification queues (`celery -A config worker -Q notifications,deliveries`).

A webhook subscriber runs in a process of its own on 127.0.0.1: it verifies every post's signature with code
of its own, written from the scheme in notifications/integrations/webhook.py (HMAC-SHA256 over
"<timestamp>.<body>", X-Mitigate-Signature "v1=<hex>"), answers 401 to anything else, and notes when
each verified post arrived. The bench makes a webhook channel with a fresh secret and a rule sending
"incident opened" of its own service to it (earlier runs' rules are deleted, their channels
disabled), then opens --incidents incidents one by one through incident_create, the path every
interface takes, twice: paced (--spacing apart: an incident storm, which the goal is about) and in a
burst (back to back: what the worker keeps up with; for information). For each incident it measures,
from the moment its transaction committed:
  sent     to the delivery's sent_at (the worker routed the event, claimed the delivery, posted it
           and recorded the answer);
  arrived  to the verified post's arrival at the subscriber.
Then it checks every incident got exactly one delivery, sent at the first attempt, and exactly one
verified post. The client, PostgreSQL and the worker share this machine's CPUs.
The worker is stopped at the end, also on error or Ctrl-C; its log is in VAR_DIR/bench/.
"""

import argparse
import hashlib
import hmac
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mitigate_ndemo_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="mitigate-bench-notifications-"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

GOAL_ARRIVED_P95_MS = 1000
WAIT_SECONDS = 60  # for the last message after the last incident was opened


from bench.databases import ensure_database  # noqa: E402

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from bench.ingest_load import Processes, percentile  # noqa: E402
from common.actor import Actor, Source  # noqa: E402
from incidents.models import Priority, Service  # noqa: E402
from incidents.services import incident_create, service_create  # noqa: E402
from notifications.choices import ChannelKind, DeliveryStatus, EventKind  # noqa: E402
from notifications.models import Channel, Delivery, NotificationRule  # noqa: E402
from notifications.services.channels import channel_save  # noqa: E402
from notifications.services.configuration import rule_delete, rule_save  # noqa: E402

BENCH = Actor.system(source=Source.CLI, label="bench")
BENCH_SERVICE = "bench-notifications"


# --- the subscriber -------------------------------------------------------------------------------


def verify(secret: bytes, at: float, timestamp: str, signature: str, body: bytes) -> tuple[int, int | None]:
    """(HTTP status, incident id) for one post, checked as the documented scheme says."""
    expected = "v1=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = timestamp.isdigit() and abs(at - int(timestamp)) <= 300
    if not fresh or not any(hmac.compare_digest(expected, s.strip()) for s in signature.split(",")):
        return 401, None
    try:
        return 200, int(json.loads(body)["incident"]["id"])
    except (ValueError, KeyError, TypeError):
        return 400, None


def serve(secret: bytes, events) -> None:
    """The subscriber's process: answer posts, and put (status, incident id, arrival) on `events`."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # Not the bench's handler: terminate() just ends it.

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            at = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            timestamp = self.headers.get("X-Mitigate-Timestamp", "")
            status, incident_id = verify(
                secret, at, timestamp, self.headers.get("X-Mitigate-Signature", ""), body
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            events.put((status, incident_id, at))

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    events.put(("port", server.server_address[1], 0.0))
    server.serve_forever(0.1)


class Subscriber:
    """A webhook endpoint on 127.0.0.1, in a process of its own so that opening incidents here
    never slows its answers: it verifies signatures (tolerance 300 s) and reports, per incident id,
    when each verified post arrived; anything unverified is counted and refused."""

    def __init__(self, secret: str) -> None:
        self.arrivals: dict[int, list[float]] = {}
        self.unverified = 0
        self.malformed = 0
        self.arrived = threading.Condition()
        context = multiprocessing.get_context("fork")
        self.events = context.Queue()
        self.process = context.Process(target=serve, args=(secret.encode(), self.events), daemon=True)
        self.process.start()
        _, port, _ = self.events.get(timeout=30)
        self.url = f"http://127.0.0.1:{port}/hook"
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        while True:
            status, incident_id, at = self.events.get()
            with self.arrived:
                if status == 200:
                    self.arrivals.setdefault(incident_id, []).append(at)
                elif status == 401:
                    self.unverified += 1
                else:
                    self.malformed += 1
                self.arrived.notify_all()

    def wait_for(self, ids: set[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not ids <= self.arrivals.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


# --- set-up ---------------------------------------------------------------------------------------


def purge_broker() -> None:
    """The bench's Redis database holds only its own queues: earlier runs' messages go."""
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def configure(run_id: str, url: str, secret: str) -> tuple[Service, Channel]:
    """This run's service, webhook channel and rule; earlier runs' rules deleted, channels disabled
    (their subscribers are gone, and a post to them would only slow this run's worker)."""
    for rule in NotificationRule.objects.filter(name__startswith="bench-"):
        rule_delete(rule=rule, by=BENCH)
    for old in Channel.objects.filter(name__startswith="bench-", enabled=True):
        channel_save(by=BENCH, channel=old, name=old.name, kind=old.kind, config=old.config, enabled=False)
    service = Service.objects.filter(slug=BENCH_SERVICE).first() or service_create(
        by=BENCH, name="Bench notifications", slug=BENCH_SERVICE, type="other", owner_team="Bench"
    )
    channel = channel_save(
        by=BENCH, name=f"bench-{run_id}", kind=ChannelKind.WEBHOOK, config={"url": url}, secret=secret
    )
    rule_save(
        by=BENCH,
        name=f"bench-{run_id}",
        position=0,
        event_kinds=[EventKind.INCIDENT_OPENED.value],
        services=[service],
        channels=[channel],
    )
    return service, channel


def open_incidents(count: int, spacing: float, service: Service, priority: Priority, label: str) -> dict:
    """Open `count` incidents one by one: {incident id: when its transaction committed}."""
    committed: dict[int, float] = {}
    for n in range(count):
        moment: list[float] = []
        with transaction.atomic():
            # Registered first, so it runs first after commit: before the routing message is published.
            transaction.on_commit(lambda moment=moment: moment.append(time.time()))
            incident = incident_create(
                by=BENCH, title=f"Bench {label} {n}", priority=priority, services=[service]
            )
        committed[incident.pk] = moment[0]
        if spacing:
            time.sleep(spacing)
    return committed


# --- main -----------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def figures(samples: list[float]) -> str:
    return (
        f"p50 {percentile(samples, 50):7.1f} ms   p95 {percentile(samples, 95):7.1f} ms   "
        f"max {max(samples, default=float('nan')):7.1f} ms"
    )


def phase_check(name: str, committed: dict[int, float], channel: Channel, subscriber: Subscriber):
    """Figures and problems of one phase: (sent ms, arrived ms, problems, posts per incident)."""
    per_incident: dict[int, list] = {}
    for incident_id, status, sent_at, attempts in Delivery.objects.filter(
        channel=channel, incident_id__in=committed
    ).values_list("incident_id", "status", "sent_at", "attempts"):
        per_incident.setdefault(incident_id, []).append((status, sent_at, attempts))
    sent_ms, arrived_ms = [], []
    for incident_id, at in committed.items():
        rows = per_incident.get(incident_id, [])
        if len(rows) == 1 and rows[0][1] is not None:
            sent_ms.append((rows[0][1].timestamp() - at) * 1000)
        arrivals = subscriber.arrivals.get(incident_id, [])
        if arrivals:
            arrived_ms.append((min(arrivals) - at) * 1000)
    problems = []
    missing = sum(1 for i in committed if i not in per_incident)
    doubled = sum(1 for rows in per_incident.values() if len(rows) != 1)
    unsent = sum(1 for rows in per_incident.values() if any(r[0] != DeliveryStatus.SENT for r in rows))
    retried = sum(1 for rows in per_incident.values() if any(r[2] != 1 for r in rows))
    posts = [len(subscriber.arrivals.get(i, [])) for i in committed]
    for count, what in (
        (missing, "incidents without a delivery"),
        (doubled, "incidents with more than one delivery"),
        (unsent, "deliveries not sent"),
        (retried, "deliveries that took more than one attempt"),
        (sum(1 for n in posts if n == 0), "incidents that never arrived"),
        (sum(1 for n in posts if n > 1), "incidents that arrived more than once"),
    ):
        if count:
            problems.append(f"{name}: {count} {what}")
    return sent_ms, arrived_ms, problems, posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100, help="per phase")
    parser.add_argument("--spacing", type=float, default=0.1, help="seconds between incidents when paced")
    parser.add_argument("--no-burst", action="store_true", help="skip the burst phase")
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes (the Procfile's 4)")
    args = parser.parse_args()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    if not settings.REDIS_URL:
        raise SystemExit("REDIS_URL must name the Redis database the bench may empty")

    # Ctrl-C raises KeyboardInterrupt; make a plain kill do the same so `finally` stops the worker.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    call_command("migrate", verbosity=0, interactive=False)
    purge_broker()
    run_id = uuid.uuid4().hex[:10]
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    subscriber = Subscriber(secret)
    service, channel = configure(run_id, subscriber.url, secret)
    priority = Priority.objects.get(code="P3")  # P1/P2 would also match the default Ops rule.
    logs = Path(settings.VAR_DIR) / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    worker_log = logs / "celery-notifications.log"
    phases = [(f"paced ({args.spacing:g} s apart)", args.spacing)]
    if not args.no_burst:
        phases.append(("burst (back to back)", 0.0))

    processes = Processes()
    results = []
    try:
        processes.start(
            [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", "notifications,deliveries",
             "--concurrency", str(args.concurrency), "--loglevel", "WARNING",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            worker_log,
        )  # fmt: skip
        print(
            f"worker: {args.concurrency} processes on `notifications,deliveries`; "
            f"{args.incidents} incidents per phase; {os.cpu_count()} CPUs; "
            f"PostgreSQL {settings.DATABASES['default']['NAME']}, "
            f"Redis {settings.REDIS_URL}",
            flush=True,
        )
        # Warm-up, waited for like the others: the worker is up and its connections are open.
        warm = open_incidents(3, 0, service, priority, f"{run_id} warm-up")
        if not subscriber.wait_for(set(warm), 60):
            raise SystemExit(f"no warm-up message arrived within 60 s; see {worker_log}")
        for name, spacing in phases:
            committed = open_incidents(args.incidents, spacing, service, priority, f"{run_id} {name}")
            complete = subscriber.wait_for(set(committed), WAIT_SECONDS)
            results.append((name, committed, complete))
        time.sleep(1)  # A message sent twice would arrive about now.
    finally:
        processes.stop_all()
        subscriber.stop()

    # --- report -----------------------------------------------------------------------------------
    problems: list[str] = []
    paced_p95 = float("nan")
    paced_complete = False
    for index, (name, committed, complete) in enumerate(results):
        sent_ms, arrived_ms, phase_problems, posts = phase_check(name, committed, channel, subscriber)
        problems += phase_problems
        first = min(committed.values())
        last = max(
            (min(subscriber.arrivals[i]) for i in committed if subscriber.arrivals.get(i)), default=first
        )
        print()
        print(
            f"  {name}: {len(committed)} incidents committed over {(max(committed.values()) - first):.1f} s, "
            f"the last message arrived {last - first:.1f} s after the first commit "
            f"({len(committed) / max(last - first, 1e-9):.0f} incidents/s)"
            + ("" if complete else f"; some still missing after {WAIT_SECONDS} s")
        )
        print(f"    commit -> delivery sent      {figures(sent_ms)}   ({len(sent_ms)} deliveries)")
        print(f"    commit -> arrived, verified  {figures(arrived_ms)}   ({sum(posts)} verified posts)")
        if index == 0:
            paced_p95, paced_complete = percentile(arrived_ms, 95), complete
    if subscriber.unverified or subscriber.malformed:
        problems.append(f"{subscriber.unverified} unverified and {subscriber.malformed} malformed posts")
    elsewhere = (
        Delivery.objects.filter(incident_id__in=[i for _, committed, _ in results for i in committed])
        .exclude(channel=channel)
        .count()
    )
    print()
    print(f"  {subscriber.unverified} posts refused; {elsewhere} deliveries to other targets")
    print()
    goals = [
        (
            f"paced: commit -> arrival p95 < {GOAL_ARRIVED_P95_MS} ms",
            paced_complete and paced_p95 < GOAL_ARRIVED_P95_MS,
            f"{paced_p95:.0f} ms",
        ),
        ("every delivery sent exactly once", not problems, "; ".join(problems) or "yes"),
    ]
    print("  goals")
    for name, ok, value in goals:
        print(f"  {verdict(ok):<5} {name:<44} {value}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
