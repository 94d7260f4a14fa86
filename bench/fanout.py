"""How much the runners add when one step fans out to many hosts. Prints figures and the goal they
are held to; asserts nothing, but says FAIL where the goal is missed.

    .venv/bin/python bench/fanout.py [--hosts 1,10,50] [--repeat 3] [--command "sleep 1"]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mitigate_bench_fanout .venv/bin/python bench/fanout.py

Starts one real sshd per host on 127.0.0.1 (tests/actions/sshd.py; needs openssh-server) and, for
each group size, times:
  floor    plain paramiko in a thread pool: connect, exec the command, read its exit status;
  runners  our runners the way the executor uses them: one per host in a ThreadPoolExecutor,
           connect(), run(command, timeout=30, sink=...), close();
  run      the whole product path: action_run_request for an action whose one step targets a
           group of those hosts, then the executor (as the Celery task calls it, minus the broker
           hop), until the run is finished: StepRun rows, streamed output, timeline and all.
Each figure is the median wall time of --repeat rounds; a round times floor, runners and run one
after the other, so a busy moment on the machine weighs on all three alike. Goal: run/floor <= 1.15
at the largest group size (50 hosts by default).

The database is a throwaway test database beside DATABASE_URL's (on PostgreSQL test_<name>,
created and dropped by the bench; unset: SQLite in a temporary folder). The goal is set for
PostgreSQL, where every database connection is a server process of its own. Loopback only; every
sshd is stopped at the end, also on error or Ctrl-C.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "false"  # production: no query log, no debug cursor (the .env has it on)
_tmp = tempfile.mkdtemp(prefix="mitigate-fanout-")
os.environ.setdefault("VAR_DIR", _tmp)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

import paramiko  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from actions.choices import ProviderKind, RunStatus, TargetKind  # noqa: E402
from actions.models import Action, Provider, ProviderGroup  # noqa: E402
from actions.runners import runner_for  # noqa: E402
from actions.runners.hostkeys import host_key_entry, parse_host_key  # noqa: E402
from actions.runners.ssh import load_private_key  # noqa: E402
from actions.services import action_run_execute, action_run_request, action_save  # noqa: E402
from common.actor import Actor, Source  # noqa: E402
from tests.actions.sshd import SSHKeys, SSHServer, sshd_available, start_sshd  # noqa: E402

logging.getLogger("paramiko").setLevel(logging.WARNING)

BENCH = Actor.system(source=Source.CLI, label="bench")
RUN_TIMEOUT = 30
GOAL_RUN_OVER_FLOOR = 1.15  # at the largest group size
ROUND_LIMIT = 120  # seconds one round may take before the bench gives up


class NullSink:
    def __init__(self):
        self.bytes = 0

    def write(self, stream: str, data: bytes) -> None:
        self.bytes += len(data)

    def cancelled(self) -> bool:
        return False

    def started(self, group: dict) -> None:
        pass


def start_servers(count: int, directory: Path, servers: list[SSHServer]) -> None:
    """Append `count` sshds sharing one host key and one client key, started a few at a time; the
    ones that started are in `servers` even when another failed, so the caller can stop them."""
    keys = SSHKeys.generate(directory / "keys")
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(start_sshd, directory / f"sshd-{i:02d}", keys) for i in range(count)]
        failures = []
        for future in futures:
            try:
                servers.append(future.result())
            except Exception as exc:
                failures.append(exc)
    if failures:
        raise failures[0]


def providers_for(servers: list[SSHServer]) -> list[Provider]:
    """Unsaved providers: the runners read only their fields."""
    return [
        Provider(name=f"bench-{i}", kind=ProviderKind.SSH, **server.provider_fields(connect_timeout=10))
        for i, server in enumerate(servers)
    ]


def in_parallel(work: Callable[[int], None], hosts: int) -> float:
    """Wall time of running work(0..hosts-1) on one thread per host."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=hosts) as pool:
        for future in [pool.submit(work, i) for i in range(hosts)]:
            future.result(timeout=ROUND_LIMIT)
    return time.perf_counter() - started


def measure_floor(servers: list[SSHServer], command: str) -> float:
    """Plain paramiko: what any SSH fan-out from Python costs at least."""
    pkey = load_private_key(servers[0].keys.client.read_text())

    def one(i: int) -> None:
        server = servers[i]
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        pinned = parse_host_key(server.host_key)
        client.get_host_keys().add(host_key_entry(server.address, server.port), pinned.get_name(), pinned)
        try:
            client.connect(
                server.address,
                port=server.port,
                username=server.user,
                pkey=pkey,
                timeout=10,
                allow_agent=False,
                look_for_keys=False,
            )
            _, stdout, _ = client.exec_command(command)
            status = stdout.channel.recv_exit_status()
            if status != 0:
                raise RuntimeError(f"{server.port}: {command!r} exited {status}")
        finally:
            client.close()

    return in_parallel(one, len(servers))


def measure_runners(providers: list[Provider], command: str) -> float:
    """Our runners as the executor drives them: one per host, connect, run, close."""

    def one(i: int) -> None:
        runner = runner_for(providers[i])
        try:
            runner.connect()
            result = runner.run(command, timeout=RUN_TIMEOUT, sink=NullSink())
            if result.exit_code != 0:
                raise RuntimeError(f"{providers[i].port}: {command!r} gave {result}")
        finally:
            runner.close()

    return in_parallel(one, len(providers))


def measure_action_run(group: ProviderGroup, command: str) -> float:
    """Request to finished run, through the services, on a throwaway database."""
    action = Action.objects.filter(name=f"fan out {group.name}").first() or action_save(
        by=BENCH,
        data={"name": f"fan out {group.name}"},
        steps=[
            {
                "name": "fan out",
                "target_kind": TargetKind.GROUP,
                "provider_group": group,
                "command": command,
                "timeout_seconds": RUN_TIMEOUT,
            }
        ],
    )
    started = time.perf_counter()
    run = action_run_request(action=action, by=BENCH)
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    took = time.perf_counter() - started
    run.refresh_from_db()
    if run.status != RunStatus.SUCCEEDED:
        raise RuntimeError(f"run #{run.pk} {run.status}: {run.error}")
    return took


def groups_for(providers: list[Provider], sizes: list[int]) -> dict[int, ProviderGroup]:
    for provider in providers:
        provider.save()
    groups = {}
    for size in sizes:
        groups[size] = ProviderGroup.objects.create(name=f"{size} hosts", max_parallel=size)
        groups[size].providers.set(providers[:size])
    return groups


def interleaved(repeat: int, measures: list[Callable[[], float]]) -> list[float]:
    """The median of each measure over `repeat` rounds of all of them in turn."""
    rounds = [[measure() for measure in measures] for _ in range(repeat)]
    return [statistics.median(column) for column in zip(*rounds, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1,10,50", help="group sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--command", default="sleep 1")
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.hosts.split(",")})
    if not sshd_available():
        sys.exit("needs OpenSSH's sshd and ssh-keygen (apt-get install openssh-server)")

    servers: list[SSHServer] = []
    setup_test_environment(debug=False)
    old_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        start_servers(max(sizes), Path(_tmp), servers)
        took = time.perf_counter() - started
        print(f"{len(servers)} sshd on 127.0.0.1 in {took:.1f} s; command {args.command!r}")
        providers = providers_for(servers)
        measure_floor(servers[:1], "true")  # warm up imports and the first handshake
        measure_runners(providers[:1], "true")

        groups = groups_for(providers, sizes)
        measure_action_run(groups[sizes[0]], args.command)  # and the product path's first queries

        database = connection.settings_dict
        print(f"database: {connection.vendor} {database['NAME']}; {args.repeat} rounds, medians")
        print(f"{'hosts':>5}  {'floor s':>8}  {'runners s':>9}  {'run s':>6}  {'run/floor':>9}")
        ratio = 0.0
        for hosts in sizes:
            floor, runners, run = interleaved(
                args.repeat,
                [
                    lambda n=hosts: measure_floor(servers[:n], args.command),
                    lambda n=hosts: measure_runners(providers[:n], args.command),
                    lambda n=hosts: measure_action_run(groups[n], args.command),
                ],
            )
            ratio = run / floor
            print(f"{hosts:>5}  {floor:>8.2f}  {runners:>9.2f}  {run:>6.2f}  {ratio:>9.2f}", flush=True)
        verdict = "ok" if ratio <= GOAL_RUN_OVER_FLOOR else "FAIL"
        print(f"{verdict:<5} run/floor <= {GOAL_RUN_OVER_FLOOR} at {sizes[-1]} hosts: {ratio:.2f}")
    finally:
        for server in servers:
            server.stop()
        connection.creation.destroy_test_db(old_db, verbosity=0)


if __name__ == "__main__":
    main()
