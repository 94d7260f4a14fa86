"""The load side of bench/scaleout.py: its child processes, the mixed alert stream and the CPU each
part of the stack used. Needs no Django."""

import contextlib
import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60  # seconds for a gunicorn or a worker to come up on a busy machine
STARTS_AT = "2024-03-05T14:02:11.482Z"


# --- processes ------------------------------------------------------------------------------------


class Processes:
    """Child processes, each leading a session of its own: stopping it stops its workers too."""

    def __init__(self):
        self.children: list[tuple[subprocess.Popen, Path]] = []

    def start(self, args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
        with log.open("ab") as handle:
            child = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.children.append((child, log))
        return child

    def stop_all(self) -> None:
        """SIGTERM to each leader (gunicorn's arbiter and Celery's main process shut their workers
        down cleanly), then SIGKILL to the whole group of whatever is left."""
        for child, _ in self.children:
            if child.poll() is None:
                child.terminate()
        for child, _ in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # stragglers of an exited leader too
            child.wait()
        self.children.clear()

    def check_alive(self) -> None:
        for child, log in self.children:
            if child.poll() is not None:
                raise SystemExit(f"{child.args[0]} exited with {child.returncode}; see {log}")


def wait_for_http(port: int, processes: Processes) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn on port {port} did not answer within {START_TIMEOUT} s")


# --- CPU ------------------------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """pid and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _by_name(name: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == name:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of every process in each named group of trees (and all postgres and
    redis-server processes: shared with whatever else the machine runs)."""
    snapshot = {
        name: {p: _cpu_seconds(p) for root in roots for p in _tree(root)} for name, roots in groups.items()
    }
    snapshot["postgres (all)"] = {p: _cpu_seconds(p) for p in _by_name("postgres")}
    snapshot["redis (all)"] = {p: _cpu_seconds(p) for p in _by_name("redis-server")}
    return snapshot


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds each group used between the snapshots (processes that started meanwhile count
    from zero; those that ended meanwhile are lost: PostgreSQL backends live as long as their
    connection, which for our processes is the whole run)."""
    return {
        name: sum(seconds - before.get(name, {}).get(pid, 0.0) for pid, seconds in after[name].items())
        for name in after
    }


# --- the stream -----------------------------------------------------------------------------------

# Of every 20 requests: 8 join a group's incident (3 alerts each), 7 open an incident of their own,
# 4 resolve an alert that opened one, 1 opens one and runs the automated response.
MIX = ["join"] * 8 + ["open"] * 7 + ["resolve"] * 4 + ["respond"]


def body(
    run_id: str, kind: str, fingerprints: list[str], *, group: str = "", resolved: bool = False
) -> bytes:
    labels = {
        "alertname": f"ScaleOut-{run_id}",
        "bench_run": run_id,
        "scale_kind": kind,
        "severity": "warning",
    }
    if group:
        labels["group"] = group
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    alerts = [
        {
            "status": "resolved" if resolved else "firing",
            "labels": {**labels, "instance": fingerprint},
            "annotations": {"summary": f"scale-out {kind}"},
            "startsAt": STARTS_AT,
            "endsAt": now if resolved else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=up",
            "fingerprint": fingerprint,
        }
        for fingerprint in fingerprints
    ]
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="ScaleOut-{run_id}"}}',
            "truncatedAlerts": 0,
            "status": "resolved" if resolved else "firing",
            "receiver": "mitigate",
            "groupLabels": {"alertname": f"ScaleOut-{run_id}"},
            "commonLabels": labels,
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.com:9093",
            "alerts": alerts,
        }
    ).encode()


@dataclass
class Sent:
    """What the stream sent and how it was answered."""

    fired: dict[str, list[str]] = field(default_factory=dict)  # kind -> fingerprints answered 202
    groups: dict[str, str] = field(default_factory=dict)  # join fingerprint -> its group
    resolved: list[str] = field(default_factory=list)  # fingerprints whose resolve was answered 202
    accepted: dict[int, int] = field(default_factory=dict)  # port -> requests answered 202
    alerts_accepted: dict[int, int] = field(default_factory=dict)  # port -> alerts in them
    latencies: list[float] = field(default_factory=list)  # ms
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0


class Stream:
    """`threads` client threads, alternately on each port, each over one keep-alive connection,
    together sending `rate` requests a second for `seconds`, kinds in the MIX proportions. Resolves
    take fingerprints from `resolvable` (filled by the caller with alerts whose incident is open)."""

    def __init__(
        self, *, run_id: str, path: str, ports: list[int], threads: int, rate: float, seconds: float
    ):
        self.run_id, self.path, self.ports = run_id, path, ports
        self.threads, self.rate, self.seconds = threads, rate, seconds
        self.groups = max(4, int(rate))  # about one new request a second per group
        self.resolvable: deque[str] = deque()
        self.sent = Sent()
        self._lock = threading.Lock()
        self.stop = threading.Event()

    def _request(self, thread: int, i: int) -> tuple[str, list[str], bytes]:
        kind = MIX[(thread * 7 + i) % len(MIX)]
        base = f"{self.run_id}-{kind}-{thread}-{i}"
        if kind == "resolve":
            try:
                fingerprint = self.resolvable.popleft()
            except IndexError:
                kind, base = "open", f"{self.run_id}-open-{thread}-{i}"  # nothing to resolve yet
            else:
                return "resolve", [fingerprint], body(self.run_id, "open", [fingerprint], resolved=True)
        if kind == "join":
            group = f"g{random.randrange(self.groups)}"
            fingerprints = [f"{base}-{k}" for k in range(3)]
            with self._lock:
                self.sent.groups.update(dict.fromkeys(fingerprints, group))
            return kind, fingerprints, body(self.run_id, kind, fingerprints, group=group)
        return kind, [base], body(self.run_id, kind, [base])

    def _client(self, thread: int, start: threading.Barrier) -> None:
        port = self.ports[thread % len(self.ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        interval = self.threads / self.rate
        fired: dict[str, list[str]] = {}
        resolved, latencies, errors = [], [], []
        accepted = alerts = 0
        start.wait()
        due = time.monotonic() + interval * thread / self.threads  # spread the threads' beats
        i = 0
        while not self.stop.is_set():
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            due += interval
            kind, fingerprints, payload = self._request(thread, i)
            i += 1
            began = time.perf_counter()
            try:
                conn.request("POST", self.path, body=payload, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"port {port}: {type(exc).__name__}: {exc}")
                conn.close()
                continue
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status != 202:
                errors.append(f"port {port}: {response.status}: {content[:200]!r}")
                continue
            accepted += 1
            alerts += len(fingerprints)
            if kind == "resolve":
                resolved += fingerprints
            else:
                fired.setdefault(kind, []).extend(fingerprints)
        conn.close()
        with self._lock:
            for kind, prints in fired.items():
                self.sent.fired.setdefault(kind, []).extend(prints)
            self.sent.resolved += resolved
            self.sent.latencies += latencies
            self.sent.errors += errors
            self.sent.accepted[port] = self.sent.accepted.get(port, 0) + accepted
            self.sent.alerts_accepted[port] = self.sent.alerts_accepted.get(port, 0) + alerts

    def run(self, while_running) -> Sent:
        """Send for `seconds`, calling while_running() about twice a second meanwhile."""
        start = threading.Barrier(self.threads + 1)
        clients = [
            threading.Thread(target=self._client, args=(t, start), daemon=True) for t in range(self.threads)
        ]
        for client in clients:
            client.start()
        start.wait()
        began = time.perf_counter()
        while time.perf_counter() - began < self.seconds:
            while_running()
            time.sleep(0.5)
        self.stop.set()
        for client in clients:
            client.join()
        self.sent.elapsed = time.perf_counter() - began
        return self.sent


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * p / 100) - 1))]
