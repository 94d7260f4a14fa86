"""How late escalation steps run under load: the delay error of each step (PageStep.ran_at - due_at),
with two real Celery workers on Redis carrying the steps and the notification sends they make.
Prints figures and the goal they are held to; asserts nothing, but says FAIL where the goal or a
check is missed.

    .venv/bin/python bench/oncall_escalation.py [--pages 300] [--open-seconds 10] [--concurrency 4]

Redis (REDIS_URL, default redis://127.0.0.1:6379/12, emptied at the start: it is the bench's) is the
broker; the database is DATABASE_URL (PostgreSQL, created and migrated when missing) or, unset, a
SQLite file in a temporary VAR_DIR. Minutes are compressed (ONCALL_MINUTE_SECONDS, default 0.1 s),
for this process and the workers. The bench makes three responders with an email contact method
each, a policy of three steps (at 0, 50 and 100 minutes: 0, 5 and 10 s) on a service of its own,
then opens --pages P1 incidents on that service, spread over --open-seconds, through
incident_create: the listener opens each page on a worker, which runs its steps when due, each
step making a delivery sent by the same workers. So the steps fall due across about
open-seconds + 10 s while the workers also send ~3 messages a page (and route the incidents' own
notifications). No beat runs: a step whose message is lost shows as missing, not late.
The workers are stopped at the end, also on error or Ctrl-C; their logs are in VAR_DIR/bench/.
"""

import argparse
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="mitigate-bench-oncall-"))
os.environ.setdefault("ONCALL_MINUTE_SECONDS", "0.1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

GOAL_P95_MS = 2000
STEP_MINUTES = (0, 50, 50)  # each after the one before
WAIT_SECONDS = 60  # for the last step after the last one fell due


from bench.databases import ensure_database  # noqa: E402

if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.ingest_load import Processes, percentile  # noqa: E402
from common.actor import Actor, Source  # noqa: E402
from incidents.models import Priority, Service  # noqa: E402
from incidents.services import incident_create, service_create  # noqa: E402
from notifications.choices import ContactKind  # noqa: E402
from notifications.models import Delivery  # noqa: E402
from notifications.services.configuration import contact_method_save  # noqa: E402
from oncall.choices import PageStatus  # noqa: E402
from oncall.models import EscalationPolicy, EscalationStep, Page, PageStep, PolicyService  # noqa: E402

BENCH = Actor.system(source=Source.CLI, label="bench")
BENCH_SERVICE = "bench-oncall"


def configure(run_id: str) -> Service:
    """This run's responders and policy, on the bench's service (an earlier run's policy goes)."""
    service = Service.objects.filter(slug=BENCH_SERVICE).first() or service_create(
        by=BENCH, name="Bench on-call", slug=BENCH_SERVICE, type="other", owner_team="Bench"
    )
    # Configuration the admin helper's services will write; the bench needs only rows.
    EscalationPolicy.objects.filter(name__startswith="bench-").delete()
    policy = EscalationPolicy.objects.create(name=f"bench-{run_id}", repeat_count=0)
    for position, minutes in enumerate(STEP_MINUTES):
        user = User.objects.create(username=f"bench-{run_id}-{position}", email=f"b{position}@example.com")
        contact_method_save(by=BENCH, user=user, kind=ContactKind.EMAIL, address=user.email)
        step = EscalationStep.objects.create(policy=policy, position=position, delay_minutes=minutes)
        step.users.set([user])
    PolicyService.objects.create(policy=policy, service=service)
    return service


def escalation_bench(*, pages: int = 100, open_seconds: float = 10.0, concurrency: int = 4) -> bool:
    """Run the bench, print its figures; True when the goal and the checks are met."""
    if not settings.REDIS_URL:
        raise SystemExit("REDIS_URL must name the Redis database the bench may empty")
    import redis

    call_command("migrate", verbosity=0, interactive=False)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    run_id = uuid.uuid4().hex[:8]
    service = configure(run_id)
    priority = Priority.objects.get(code="P1")
    logs = Path(settings.VAR_DIR) / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    processes = Processes()
    opened: list[int] = []
    try:
        for name in ("first", "second"):
            processes.start(
                [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker",
                 "-Q", "paging,notifications,deliveries",
                 "--concurrency", str(concurrency), "--loglevel", "WARNING", "--hostname", f"{name}@%h",
                 "--without-heartbeat", "--without-mingle", "--without-gossip"],
                logs / f"celery-{name}.log",
            )  # fmt: skip
        database = settings.DATABASES["default"]
        print(
            f"2 workers x {concurrency} processes on `paging,notifications,deliveries`; {pages} pages opened "
            f"over {open_seconds:g} s, steps {STEP_MINUTES} min apart at "
            f"{settings.ONCALL_MINUTE_SECONDS:g} s a minute; {os.cpu_count()} CPUs; "
            f"{database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}, Redis {settings.REDIS_URL}",
            flush=True,
        )
        # Warm-up, waited for: both workers are up (a slow start would count as step delay).
        warm = [
            incident_create(
                by=BENCH, title=f"Bench {run_id} warm-up {n}", priority=priority, services=[service]
            )
            for n in range(4)
        ]
        warm_deadline = time.monotonic() + 90
        while PageStep.objects.filter(page__incident__in=warm, position=0).count() < len(warm):
            if time.monotonic() > warm_deadline:
                raise SystemExit(f"the warm-up pages did not run their first step within 90 s; see {logs}")
            time.sleep(0.2)
        start = time.monotonic()
        for n in range(pages):
            incident = incident_create(
                by=BENCH, title=f"Bench {run_id} {n}", priority=priority, services=[service]
            )
            opened.append(incident.pk)
            pause = start + open_seconds * (n + 1) / pages - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        last_due = sum(STEP_MINUTES) * settings.ONCALL_MINUTE_SECONDS
        deadline = time.monotonic() + last_due + WAIT_SECONDS
        ended = 0
        while time.monotonic() < deadline:
            ended = Page.objects.filter(incident_id__in=opened).exclude(status=PageStatus.ESCALATING).count()
            if ended == pages:
                break
            time.sleep(0.5)
        time.sleep(1)  # a step run twice would show about now
    finally:
        processes.stop_all()

    steps = list(
        PageStep.objects.filter(page__incident_id__in=opened).values_list("page_id", "due_at", "ran_at")
    )
    errors_ms = [(ran - due).total_seconds() * 1000 for _, due, ran in steps]
    page_count = Page.objects.filter(incident_id__in=opened).count()
    deliveries = Delivery.objects.filter(incident_id__in=opened, event_kind="page")
    sent = deliveries.filter(status="sent").count()
    problems = []
    if page_count != pages:
        problems.append(f"{pages - page_count} incidents without a page")
    if len(steps) != pages * len(STEP_MINUTES):
        problems.append(f"{len(steps)} steps ran of {pages * len(STEP_MINUTES)}")
    if deliveries.count() != len(steps):
        problems.append(f"{deliveries.count()} page deliveries for {len(steps)} steps")
    p95 = percentile(errors_ms, 95)
    print()
    print(
        f"  step delay error (ran - due) over {len(errors_ms)} steps: "
        f"p50 {percentile(errors_ms, 50):.0f} ms   p95 {p95:.0f} ms   "
        f"max {max(errors_ms, default=float('nan')):.0f} ms"
    )
    others = Delivery.objects.filter(incident_id__in=opened).exclude(event_kind="page").count()
    print(
        f"  {page_count} pages, {ended} ended; {deliveries.count()} page deliveries, {sent} sent; "
        f"{others} other deliveries"
    )
    ok_goal = bool(errors_ms) and p95 < GOAL_P95_MS
    print()
    print("  goals")
    print(f"  {'ok' if ok_goal else 'FAIL':<5} {f'step delay error p95 < {GOAL_P95_MS} ms':<44} {p95:.0f} ms")
    checks = "; ".join(problems) or "yes"
    print(f"  {'ok' if not problems else 'FAIL':<5} {'every step ran once, one delivery each':<44} {checks}")
    return ok_goal and not problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument(
        "--open-seconds", type=float, default=10.0, help="the pages are opened over this long"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="processes per worker")
    args = parser.parse_args()
    # Ctrl-C raises KeyboardInterrupt; make a plain kill do the same so `finally` stops the workers.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    met = escalation_bench(pages=args.pages, open_seconds=args.open_seconds, concurrency=args.concurrency)
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
