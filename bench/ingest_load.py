"""The load side of bench/ingest.py: the child processes it starts (gunicorn, a Celery worker),
the client threads that send requests, and the Alertmanager bodies they send. Needs no Django."""

import http.client
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30  # seconds for gunicorn or the worker to come up


# --- processes ------------------------------------------------------------------------------------


class Processes:
    """Child processes, each in a group of its own so stopping one stops its workers too."""

    def __init__(self):
        self.children: list[subprocess.Popen] = []

    def start(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        handle = log.open("ab")
        # A session of its own: stopping the group stops the arbiter's or the worker's children too.
        child = subprocess.Popen(
            args, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
        self.children.append(child)
        return child

    def stop(self, child: subprocess.Popen) -> None:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        if child in self.children:
            self.children.remove(child)

    def stop_all(self) -> None:
        for child in list(self.children):
            self.stop(child)


def wait_for_http(port: int, child: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"gunicorn exited with {child.returncode}; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {START_TIMEOUT}s; see {log}")


def purge_queues() -> None:
    """Drop messages left in the bench's Redis database: earlier runs' and the throughput phases'
    (their alerts stay unprocessed, which the latency phase does not look at)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete("default", "actions", "unacked", "unacked_index")


# --- load -----------------------------------------------------------------------------------------


class Phase:
    """Requests sent by `threads` client threads for `seconds`, each over its own keep-alive
    connection; `request(thread, i)` gives (method, path, body). Latencies in ms."""

    def __init__(self, name: str, port: int, request, *, expect: int, threads: int, seconds: float):
        self.name, self.port, self.request, self.expect = name, port, request, expect
        self.threads, self.seconds = threads, seconds
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.sent_ok: list[tuple[int, int]] = []  # (thread, i) of every request answered as expected
        self.elapsed = 0.0

    def run(self) -> "Phase":
        lock = threading.Lock()
        start = threading.Barrier(self.threads + 1)
        stop = threading.Event()

        def client(thread: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            latencies, ok, errors = [], [], []
            start.wait()
            i = 0
            while not stop.is_set():
                method, path, body = self.request(thread, i)
                headers = {"Content-Type": "application/json"} if body is not None else {}
                began = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    content = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    conn.close()  # reconnects on the next request
                    i += 1
                    continue
                latencies.append((time.perf_counter() - began) * 1000)
                if response.status == self.expect:
                    ok.append((thread, i))
                else:
                    errors.append(f"{response.status}: {content[:200]!r}")
                i += 1
            conn.close()
            with lock:
                self.latencies.extend(latencies)
                self.sent_ok.extend(ok)
                self.errors.extend(errors)

        workers = [threading.Thread(target=client, args=(t,), daemon=True) for t in range(self.threads)]
        for worker in workers:
            worker.start()
        start.wait()
        began = time.perf_counter()
        time.sleep(self.seconds)
        stop.set()
        for worker in workers:
            worker.join()
        # Requests in flight when the time was up are finished and counted, so the clock runs to the end.
        self.elapsed = time.perf_counter() - began
        return self

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * p / 100) - 1))]


def alertmanager_body(fingerprints: list[str], labels: dict[str, str] | None = None) -> bytes:
    """An Alertmanager v4 notification with one firing alert per fingerprint."""
    common = {"alertname": "BenchAlert", "service": "checkout", "severity": "warning", **(labels or {})}
    alerts = [
        {
            "status": "firing",
            "labels": {**common, "instance": f"host-{fingerprint}:9100"},
            "annotations": {"summary": "bench alert", "runbook_url": "https://runbooks.example.com/bench"},
            "startsAt": "2024-03-05T14:02:11.482Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=up",
            "fingerprint": fingerprint,
        }
        for fingerprint in fingerprints
    ]
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="BenchAlert"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "mitigate",
            "groupLabels": {"alertname": "BenchAlert"},
            "commonLabels": common,
            "commonAnnotations": {"summary": "bench alert"},
            "externalURL": "http://alertmanager.example.com:9093",
            "alerts": alerts,
        }
    ).encode()
