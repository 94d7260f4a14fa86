"""Who is on call, for 1,000 schedules of 3 layers (5 members each) and 50 overrides each. Prints
figures and the goal; asserts nothing, but says FAIL where the goal is missed.

    .venv/bin/python bench/oncall.py [--schedules 1000] [--overrides 50] [--runs 20] [--reload]
                                     [--lookup-only] [--pages 100] [--open-seconds 10]

Then, unless --lookup-only, bench/oncall_escalation.py (in a process of its own: it runs real
workers on Redis) prints an escalation step's delay error under load.

SQLite by default (a database file of its own under VAR_DIR/bench, migrated when new); PostgreSQL
when DATABASE_URL is set (created and migrated when missing), e.g.
DATABASE_URL=postgres://postgres@127.0.0.1:5432/mitigate_bench_oncall. The schedules are loaded once
with bulk_create (time zones Berlin, New York, Tokyo and UTC; a weekly layer, a daily one, and a
12-hour layer kept to business hours; overrides of a few hours each, spread over four months around
now, a few in force at any moment) and reused unless --reload. Then `oncall_at(at=now)` for all of
them is timed: median and p95 of --runs calls after a warm-up, for the top person and for every
layer's person (all_layers), with its query count.
"""

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if not os.environ.get("DATABASE_URL"):
    bench_dir = Path(os.environ.get("VAR_DIR", ROOT / "var")) / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{bench_dir / 'oncall.sqlite3'}"

GOAL_LOOKUP_MS = 100
PREFIX = "bench-oncall"
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")


from bench.databases import ensure_database  # noqa: E402

if os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
    ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.ingest_load import percentile  # noqa: E402
from config.runtime import startup_objects_freeze  # noqa: E402
from oncall.models import Layer, LayerMember, Override, Schedule  # noqa: E402
from oncall.selectors import oncall_at  # noqa: E402


def load(*, schedules: int, overrides: int, reload: bool) -> str:
    """The bench's schedules, made once (or again with --reload or another size)."""
    existing = Schedule.objects.filter(name__startswith=PREFIX)
    per_schedule = Override.objects.filter(schedule__name__startswith=PREFIX).count() / max(
        existing.count(), 1
    )
    if not reload and existing.count() == schedules and round(per_schedule) == overrides:
        return f"reused {schedules} schedules"
    started = time.perf_counter()
    now = timezone.now()
    user_model = get_user_model()
    with transaction.atomic():
        existing.delete()
        user_model.objects.filter(username__startswith=PREFIX).delete()
        users = user_model.objects.bulk_create(
            user_model(username=f"{PREFIX}-{n}", email=f"{PREFIX}-{n}@example.com") for n in range(60)
        )
        if not users[0].pk:  # Backends that do not return ids from bulk_create.
            users = list(user_model.objects.filter(username__startswith=PREFIX).order_by("id"))
        made = Schedule.objects.bulk_create(
            Schedule(name=f"{PREFIX}-{n:05d}", time_zone=ZONES[n % len(ZONES)]) for n in range(schedules)
        )
        if not made[0].pk:
            made = list(Schedule.objects.filter(name__startswith=PREFIX).order_by("id"))
        start = dt.date(2025, 1, 6)
        layers = []
        for number, schedule in enumerate(made):
            layers += [
                Layer(schedule=schedule, name="weekly", level=1, rotation_unit="weeks", start_date=start,
                      handoff_time=dt.time(9)),
                Layer(schedule=schedule, name="daily", level=2, rotation_unit="days", start_date=start,
                      handoff_time=dt.time(8, 30), restrict_weekdays=[0, 1, 2, 3, 4]),
                Layer(schedule=schedule, name="business", level=3, rotation_unit="hours", rotation_length=12,
                      start_date=start, handoff_time=dt.time(number % 24), restrict_weekdays=[0, 1, 2, 3, 4],
                      restrict_start_time=dt.time(9), restrict_end_time=dt.time(17)),
            ]  # fmt: skip
        layers = Layer.objects.bulk_create(layers)
        if not layers[0].pk:
            layers = list(Layer.objects.filter(schedule__name__startswith=PREFIX).order_by("id"))
        LayerMember.objects.bulk_create(
            (
                LayerMember(layer=layer, user=users[(n * 7 + position) % len(users)], position=position)
                for n, layer in enumerate(layers)
                for position in range(5)
            ),
            batch_size=5000,
        )
        window = dt.timedelta(days=120)
        Override.objects.bulk_create(
            (
                Override(
                    schedule=schedule,
                    user=users[(n + k) % len(users)],
                    replaces=users[(n * 7 + k) % len(users)] if k % 3 == 0 else None,
                    starts_at=now - window / 2 + window * k / overrides + dt.timedelta(minutes=n % 600),
                    ends_at=now - window / 2 + window * k / overrides + dt.timedelta(minutes=n % 600 + 240),
                )
                for n, schedule in enumerate(made)
                for k in range(overrides)
            ),
            batch_size=5000,
        )
    return f"loaded {schedules} schedules in {time.perf_counter() - started:.1f} s"


def _time(runs: int, **kwargs) -> tuple[float, float, float, int, int]:
    """Median and p95 wall time in ms of `runs` calls after a warm-up, the median CPU time of this
    process (what the code costs, whatever else the machine runs; PostgreSQL's own time is not in
    it), the warm-up's query count, and how many schedules had somebody on call."""
    with CaptureQueriesContext(connection) as queries:
        answer = oncall_at(**kwargs)
    samples, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        oncall_at(**kwargs)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    covered = sum(1 for people in answer.values() if people)
    return statistics.median(samples), percentile(samples, 95), statistics.median(cpu), len(queries), covered


def lookup_bench(*, schedules: int = 1000, overrides: int = 50, runs: int = 20, reload: bool = False) -> bool:
    """Prints the on-call lookup figures; True when the goal is met."""
    call_command("migrate", verbosity=0)
    how = load(schedules=schedules, overrides=overrides, reload=reload)
    vendor = connection.vendor
    print(f"On-call lookup: {schedules} schedules x 3 layers x 5 members, {overrides} overrides each "
          f"({vendor}; {how}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs).")  # fmt: skip
    now = timezone.now()
    met = True
    # The web server and the workers freeze what start-up made (config/runtime.py); a process that
    # has not, like this one until the freeze below, pauses for full garbage collections over it.
    for frozen in (False, True):
        if frozen:
            startup_objects_freeze()
        state = "start-up objects frozen, as in the web server and workers" if frozen else "nothing frozen"
        print(f"  {state}:")
        for label, all_layers in (("top person", False), ("every layer", True)):
            median, p95, cpu, queries, covered = _time(runs, at=now, all_layers=all_layers)
            ok = p95 < GOAL_LOOKUP_MS
            if frozen:
                met = met and ok
            print(
                f"    oncall_at(at=now), {label:<11}: median {median:6.1f} ms, p95 {p95:6.1f} ms over {runs} "
                f"runs (CPU median {cpu:.1f} ms), {queries} queries, {covered} schedules staffed  "
                f"(goal p95 < {GOAL_LOOKUP_MS} ms: {'ok' if ok else 'FAIL'})"
            )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--overrides", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--lookup-only", action="store_true", help="leave out the escalation bench")
    parser.add_argument("--pages", type=int, default=100, help="escalation bench: pages opened")
    parser.add_argument("--open-seconds", type=float, default=10.0, help="escalation bench: over this long")
    options = parser.parse_args()
    met = lookup_bench(
        schedules=options.schedules, overrides=options.overrides, runs=options.runs, reload=options.reload
    )
    if not options.lookup_only:
        print(flush=True)
        escalation = [sys.executable, str(ROOT / "bench" / "oncall_escalation.py")]
        escalation += ["--pages", str(options.pages), "--open-seconds", str(options.open_seconds)]
        met = subprocess.run(escalation, cwd=ROOT, check=False).returncode == 0 and met
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
