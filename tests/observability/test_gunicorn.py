"""The real thing: gunicorn with gunicorn.conf.py and two workers, each replaced after three
requests, and every scrape (whichever worker answers it) counting the requests of all of them,
dead ones included."""

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.support import TOKEN

GUNICORN = Path(settings.BASE_DIR) / ".venv" / "bin" / "gunicorn"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def request(url: str, *, data: bytes | None = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=headers), timeout=60
        ) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def refused_unknown(body: bytes) -> float:
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "mitigate_alert_requests_received_total" and sample.labels == {
                "source": "unknown"
            }:
                return sample.value
    return 0.0


def test_two_gunicorn_workers_count_together(tmp_path):
    if not GUNICORN.exists():
        pytest.skip(f"needs gunicorn at {GUNICORN} (requirements.txt)")
    var = tmp_path / "var"
    stale = var / "prometheus"
    stale.mkdir(parents=True)
    (stale / "counter_999999.db").write_bytes(b"an earlier run's")
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "REDIS_URL")}
    env.update(VAR_DIR=str(var), DATABASE_URL=database_url(), METRICS_TOKEN=TOKEN, ALLOWED_HOSTS="127.0.0.1")
    port = free_port()
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "config.wsgi",
            "--workers",
            "2",
            "--max-requests",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if request(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, "gunicorn did not answer within 180 s"
            time.sleep(0.2)
        assert not (stale / "counter_999999.db").exists()  # on_starting emptied the folder

        for _ in range(12):
            status, body = request(base + "/hooks/no-such-token/", data=b"{}")
            assert status == 401, body
        seen = set()
        for _ in range(6):
            status, body = request(base + "/metrics", token=TOKEN)
            assert status == 200, body
            seen.add(refused_unknown(body))
        assert seen == {12.0}
        # Each worker is replaced after 3 requests: the posts were counted by at least four
        # processes, most of them gone, and every scrape still sums them all.
        assert len([name for name in os.listdir(stale) if name.startswith("counter_")]) >= 4
    finally:
        server.terminate()
        server.wait(timeout=20)
