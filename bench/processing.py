"""Whether alert processing keeps up with intake. Prints figures and the goals they are held to;
asserts nothing, but says FAIL where one is missed.

    .venv/bin/python bench/processing.py [--seconds 60] [--per-payload 10] [--workers 2]
                                         [--join-backlog 15000] [--open-backlog 2000]
                                         [--scenarios join,open]

The production stack on this machine: PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mitigate_bench, created and migrated when missing) and Redis as
broker (REDIS_URL, default redis://127.0.0.1:6379/2), with --workers real Celery worker processes
(`celery -A config worker -Q default --concurrency 1` each). Alerts are stored through the webhook's
own service (alerts_ingest, one transaction and one process_alerts message per payload of
--per-payload alerts), in this process: the HTTP side is bench/ingest.py's.

Two scenarios, each with a rule of its own that matches only this run's alerts:
  join  every alert joins the one open incident of its group (policy attach, grouped by alertname);
  open  every alert opens an incident of its own (policy create).
For each:
  capacity   a backlog is stored while no worker runs; the workers start and drain it. The rate is
             alerts over the spread of their processed_at, so worker start-up does not count.
  sustained  alerts arrive at half the goal's rate for --seconds while the workers run; every 100 ms
             the lag (the age of the oldest unprocessed alert of the source) is sampled.
Then every alert sent is checked: stored once, processed once, in exactly one incident (join: the
one of its phase; open: its own), one "alert attached" timeline event each, no duplicate incidents.
Workers are stopped at the end, also on error or Ctrl-C.
"""

import argparse
import os
import signal
import sys
import threading
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
os.environ.setdefault("LOG_LEVEL", "WARNING")

GOAL_JOIN_PER_S = 1_000  # alerts joining an open incident
GOAL_OPEN_PER_S = 100  # incidents opened, one per alert
GOAL_LAG_P95_S = 2.0  # fed at half the goal's rate
SAMPLE_EVERY = 0.1
DRAIN_TIMEOUT = 300

from bench.databases import ensure_database  # noqa: E402

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Max, Min  # noqa: E402
from django.utils import timezone  # noqa: E402

from alerts.models import Alert  # noqa: E402
from alerts.parsers import parse  # noqa: E402
from alerts.services import alert_rule_save, alert_source_create, alerts_ingest  # noqa: E402
from bench.ingest_load import Processes, percentile  # noqa: E402
from common.actor import Actor, Source  # noqa: E402
from incidents.choices import EventKind  # noqa: E402
from incidents.models import Incident, TimelineEvent  # noqa: E402

BENCH = Actor.system(source=Source.CLI, label="bench")
QUEUES = ("default", "actions", "notifications", "deliveries", "paging", "periodic")


def purge_queues() -> None:
    """Drop every queue's messages in the bench's Redis database: earlier runs', and what the
    listeners enqueue (notifications, paging) that no bench worker consumes."""
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).delete(*QUEUES, "unacked", "unacked_index")


def payload(run_id: str, scenario: str, phase: str, fingerprints: list[str]) -> dict:
    """An Alertmanager v4 notification, firing, one alert per fingerprint; alertname names the
    phase, so a join phase has one group (one incident) of its own."""
    name = f"Bench-{run_id}-{scenario}-{phase}"
    common = {"alertname": name, "bench_run": run_id, "scenario": scenario, "severity": "warning"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": "firing",
        "receiver": "mitigate",
        "groupLabels": {"alertname": name},
        "commonLabels": common,
        "commonAnnotations": {"summary": "bench alert"},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {**common, "instance": f"host-{fingerprint}:9100"},
                "annotations": {"summary": "bench alert"},
                "startsAt": "2024-03-05T14:02:11.482Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=up",
                "fingerprint": fingerprint,
            }
            for fingerprint in fingerprints
        ],
    }


class Feed:
    """Payloads of `per_payload` alerts stored through alerts_ingest, `rate` alerts/s (0: as fast
    as possible) for `seconds` or until `total` alerts."""

    def __init__(self, source, run_id: str, scenario: str, phase: str, per_payload: int):
        self.source, self.run_id, self.scenario, self.phase = source, run_id, scenario, phase
        self.per_payload = per_payload
        self.sent: list[str] = []

    def prefix(self) -> str:
        return f"{self.run_id}-{self.scenario}-{self.phase}-"

    def send_one(self) -> None:
        n = len(self.sent)
        fingerprints = [f"{self.prefix()}{n + k}" for k in range(self.per_payload)]
        raw = payload(self.run_id, self.scenario, self.phase, fingerprints)
        alerts_ingest(source=self.source, payload=parse("alertmanager", raw), raw=raw)
        self.sent.extend(fingerprints)

    def run(self, *, rate: float = 0, seconds: float = 0, total: int = 0) -> float:
        """Send; returns the seconds it took. Paced payloads are sent on a fixed schedule, so a slow
        one is caught up rather than lowering the rate."""
        began = time.perf_counter()
        interval = self.per_payload / rate if rate else 0
        k = 0
        while True:
            if total and len(self.sent) >= total:
                break
            if seconds and time.perf_counter() - began >= seconds:
                break
            if interval:
                wait = began + k * interval - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            self.send_one()
            k += 1
        return time.perf_counter() - began


class LagSampler(threading.Thread):
    """Every SAMPLE_EVERY s, the age of the source's oldest unprocessed alert (0 when none)."""

    def __init__(self, source):
        super().__init__(daemon=True)
        self.source, self.samples, self.stop = source, [], threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                oldest = Alert.objects.filter(
                    source=self.source, processed=False, processing_failed_at__isnull=True
                ).aggregate(oldest=Min("last_received_at"))["oldest"]
                self.samples.append((timezone.now() - oldest).total_seconds() if oldest else 0.0)
                self.stop.wait(SAMPLE_EVERY)
        finally:
            connection.close()


def wait_processed(source, prefix: str, count: int, timeout: float = DRAIN_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = Alert.objects.filter(source=source, fingerprint__startswith=prefix, processed=True).count()
        if done >= count:
            return True
        time.sleep(0.2)
    return False


def processed_rate(source, prefix: str) -> tuple[float, int]:
    """Alerts per second over the spread of their processed_at, and how many were processed."""
    spread = Alert.objects.filter(source=source, fingerprint__startswith=prefix, processed=True).aggregate(
        first=Min("processed_at"), last=Max("processed_at"), n=Count("id")
    )
    if not spread["n"] or spread["first"] == spread["last"]:
        return 0.0, spread["n"]
    return spread["n"] / (spread["last"] - spread["first"]).total_seconds(), spread["n"]


def processed_between(source, prefix: str, start: datetime, end: datetime) -> int:
    return Alert.objects.filter(
        source=source, fingerprint__startswith=prefix, processed_at__gte=start, processed_at__lt=end
    ).count()


def check_exactly_once(source, feed: Feed, scenario: str) -> list[str]:
    """Every alert sent is one row, processed once, in exactly one incident of the right kind, with
    one timeline event; no incident beyond those the alerts are in."""
    where = f"{scenario}/{feed.phase}"
    rows = list(
        Alert.objects.filter(source=source, fingerprint__startswith=feed.prefix()).values_list(
            "pk",
            "fingerprint",
            "occurrence_count",
            "processed",
            "processing_attempts",
            "processing_failed_at",
            "incident_id",
            "opened_incident",
        )
    )
    problems = []
    fingerprints = [row[1] for row in rows]
    if sorted(fingerprints) != sorted(feed.sent):
        missing = len(set(feed.sent) - set(fingerprints))
        problems.append(f"{where}: {len(feed.sent)} sent, {len(rows)} rows, {missing} missing")
    if any(row[2] != 1 for row in rows):
        problems.append(f"{where}: an alert sent once has occurrence_count != 1")
    unprocessed = [row for row in rows if not row[3] or row[4] or row[5]]
    if unprocessed:
        problems.append(f"{where}: {len(unprocessed)} alerts unprocessed, failed or retried")
    incident_ids = [row[6] for row in rows]
    if None in incident_ids:
        problems.append(f"{where}: {incident_ids.count(None)} alerts in no incident")
    distinct = {i for i in incident_ids if i is not None}
    openers = sum(1 for row in rows if row[7])
    if scenario == "join" and (len(distinct) != 1 or openers != 1):
        problems.append(f"{where}: {len(distinct)} incidents and {openers} openers, expected 1 and 1")
    if scenario == "open" and (len(distinct) != len(rows) or openers != len(rows)):
        problems.append(f"{where}: {len(rows)} alerts in {len(distinct)} incidents, {openers} openers")
    # Incidents this phase's alerts could have opened: its alertname starts their titles.
    opened = Incident.objects.filter(title__startswith=f"Bench-{feed.run_id}-{scenario}-{feed.phase}:")
    if opened.count() != len(distinct):
        problems.append(f"{where}: {opened.count()} incidents opened, {len(distinct)} hold its alerts")
    attached = list(
        TimelineEvent.objects.filter(incident__in=opened, kind=EventKind.ALERT_ATTACHED).values_list(
            "details__alert", flat=True
        )
    )
    if sorted(attached) != sorted(row[0] for row in rows):
        problems.append(f"{where}: {len(attached)} 'alert attached' events for {len(rows)} alerts")
    created = TimelineEvent.objects.filter(incident__in=opened, kind=EventKind.CREATED).count()
    if created != len(distinct):
        problems.append(f"{where}: {created} 'created' events for {len(distinct)} incidents")
    return problems


def rule_setup(run_id: str, scenario: str) -> None:
    alert_rule_save(
        by=BENCH,
        data={
            "name": f"bench-{run_id}-{scenario}",
            "order": 0,
            "matchers": [
                {"label": "bench_run", "op": "eq", "value": run_id},
                {"label": "scenario", "op": "eq", "value": scenario},
            ],
            "incident_policy": "attach" if scenario == "join" else "create",
            "group_by": ["alertname"],
        },
    )


def start_workers(processes: Processes, count: int, logs: Path) -> list:
    workers = []
    for n in range(count):
        workers.append(
            processes.start(
                [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", "default",
                 "--concurrency", "1", "-n", f"bench-processing-{n}@%h", "--loglevel", "WARNING",
                 "--without-heartbeat", "--without-mingle", "--without-gossip"],
                logs / f"processing-worker-{n}.log",
            )
        )  # fmt: skip
    return workers


def scenario_run(args, processes: Processes, source, run_id: str, scenario: str, logs: Path) -> dict:
    goal = GOAL_JOIN_PER_S if scenario == "join" else GOAL_OPEN_PER_S
    backlog = args.join_backlog if scenario == "join" else args.open_backlog
    rule_setup(run_id, scenario)
    result: dict = {"scenario": scenario, "goal": goal}

    # Capacity: a backlog stored while no worker runs, then drained by the workers.
    purge_queues()
    capacity = Feed(source, run_id, scenario, "capacity", args.per_payload)
    stored_in = capacity.run(total=backlog)
    print(f"  {scenario}: backlog of {len(capacity.sent)} alerts stored in {stored_in:.1f}s", flush=True)
    workers = start_workers(processes, args.workers, logs)
    drained = wait_processed(source, capacity.prefix(), len(capacity.sent))
    result["capacity"], result["capacity_n"] = processed_rate(source, capacity.prefix())
    print(f"  {scenario}: capacity {result['capacity']:,.0f} alerts/s (drained: {drained})", flush=True)

    # Sustained: half the goal's rate for --seconds, the lag sampled meanwhile.
    sustained = Feed(source, run_id, scenario, "sustained", args.per_payload)
    rate = goal * args.load
    sampler = LagSampler(source)
    sampler.start()
    started = timezone.now()
    took = sustained.run(rate=rate, seconds=args.seconds)
    ended = timezone.now()
    fed_rate = len(sustained.sent) / took
    drained_after = wait_processed(source, sustained.prefix(), len(sustained.sent))
    sampler.stop.set()
    sampler.join()
    window = (ended - started).total_seconds()
    result.update(
        fed=fed_rate,
        target=rate,
        processed=processed_between(source, sustained.prefix(), started, ended) / window,
        lag_p50=percentile(sampler.samples, 50),
        lag_p95=percentile(sampler.samples, 95),
        lag_max=max(sampler.samples, default=float("nan")),
        drained=drained and drained_after,
    )
    print(
        f"  {scenario}: fed {fed_rate:,.0f}/s for {took:.0f}s, processed {result['processed']:,.0f}/s, "
        f"lag p95 {result['lag_p95']:.2f}s (drained: {drained_after})",
        flush=True,
    )
    for worker in workers:
        processes.stop(worker)
    result["problems"] = check_exactly_once(source, capacity, scenario) + check_exactly_once(
        source, sustained, scenario
    )
    return result


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of each sustained feed")
    parser.add_argument("--per-payload", type=int, default=10, help="alerts per payload (and message)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--join-backlog", type=int, default=15_000)
    parser.add_argument("--open-backlog", type=int, default=2_000)
    parser.add_argument("--load", type=float, default=0.5, help="sustained rate, as a share of the goal")
    parser.add_argument("--scenarios", default="join,open")
    args = parser.parse_args()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    call_command("migrate", verbosity=0, interactive=False)
    run_id = uuid.uuid4().hex[:10]
    source, _ = alert_source_create(
        by=BENCH, name=f"bench processing {run_id}", kind="alertmanager", rate_limit_per_minute=10**9
    )
    logs = Path(settings.VAR_DIR) / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    print(
        f"{args.workers} worker processes on Redis {settings.REDIS_URL}; PostgreSQL "
        f"{settings.DATABASES['default']['NAME']}; {args.per_payload} alerts per payload; "
        f"{os.cpu_count()} CPUs; {datetime.now(UTC):%H:%M:%S} UTC",
        flush=True,
    )
    processes = Processes()
    results = []
    try:
        for scenario in args.scenarios.split(","):
            results.append(scenario_run(args, processes, source, run_id, scenario, logs))
    finally:
        processes.stop_all()
        purge_queues()

    print()
    header = ("", "capacity/s", "goal", "fed/s", "done/s", "lag p50", "p95", "max")
    print("  " + "".join(f"{h:>10}" for h in header))
    for r in results:
        cells = (r["scenario"], f"{r['capacity']:,.0f}", f"{r['goal']:,}", f"{r['fed']:,.0f}")
        cells += (f"{r['processed']:,.0f}", *(f"{r[k]:.2f}s" for k in ("lag_p50", "lag_p95", "lag_max")))
        print("  " + "".join(f"{c:>10}" for c in cells))
    print()
    print("  goals")
    for r in results:
        name = r["scenario"]
        what = "alerts joining an open incident" if name == "join" else "incidents opened"
        checked = "; ".join(r["problems"]) or ("yes" if r["drained"] else "not drained")
        lines = [
            (r["capacity"] >= r["goal"], f"{what} >= {r['goal']:,}/s", f"{r['capacity']:,.0f}/s"),
            (
                r["lag_p95"] < GOAL_LAG_P95_S,
                f"{name}: lag p95 < {GOAL_LAG_P95_S:g} s fed at {r['target']:,.0f}/s",
                f"{r['lag_p95']:.2f} s",
            ),
            (not r["problems"] and r["drained"], f"{name}: every alert once, in one incident", checked),
        ]
        for ok, goal, value in lines:
            print(f"  {verdict(ok):<5} {goal:<48} {value}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
