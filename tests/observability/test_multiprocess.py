"""Prometheus' multiprocess mode: counters written by other processes (gunicorn's workers) are read
back by whichever process answers the scrape, and still counted after those processes exit; the
gunicorn hooks empty the folder at start and mark dead workers. The scrape's queries are pinned."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.conf import settings

from alerts import metrics
from observability.exposition import exposition
from tests.observability.support import samples, value

pytestmark = pytest.mark.django_db

CHILD = """
import django
django.setup()
from alerts import metrics
metrics.alerts_accepted.labels("from-another-process").inc(5)
metrics.ingest_seconds.labels("accepted").observe(0.2)
print("pid", __import__("os").getpid())
"""


def run_child() -> int:
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1])


def test_counters_of_other_processes_are_summed_with_this_ones_and_outlive_them(client):
    before = samples(client)
    child = run_child()
    run_child()
    metrics.alerts_accepted.labels("from-another-process").inc(2)

    found = samples(client)
    accepted = value(found, "mitigate_alerts_accepted_total", source="from-another-process")
    assert accepted - value(before, "mitigate_alerts_accepted_total", source="from-another-process") == 12
    observed = value(found, "mitigate_alert_ingest_seconds_count", outcome="accepted")
    assert observed - value(before, "mitigate_alert_ingest_seconds_count", outcome="accepted") == 2
    # Each process wrote a file of its own, named by its pid.
    assert any(name.endswith(f"_{child}.db") for name in os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))


def test_gunicorn_hooks_empty_the_folder_at_start_and_mark_dead_workers(tmp_path, monkeypatch):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left by an earlier run")
    (folder / "gauge_livesum_4242.db").write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    namespace: dict = {}
    exec(compile((settings.BASE_DIR / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)

    namespace["on_starting"](SimpleNamespace())
    assert folder.is_dir() and list(folder.iterdir()) == []

    (folder / "gauge_livesum_4242.db").write_bytes(b"")
    (folder / "counter_4242.db").write_bytes(b"")
    namespace["child_exit"](SimpleNamespace(), SimpleNamespace(pid=4242))
    # A dead worker's live gauges go; its counters stay counted.
    assert sorted(path.name for path in folder.iterdir()) == ["counter_4242.db"]


def test_a_scrape_runs_five_queries_however_much_there_is(django_assert_num_queries, incident_factory):
    for _ in range(3):
        incident_factory()
    with django_assert_num_queries(5):
        text = exposition()
    assert b"mitigate_incidents_open" in text
