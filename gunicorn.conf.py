"""gunicorn reads this file from the directory it starts in (the checkout): Prometheus'
multiprocess mode for /metrics (observability/, docs/metrics.md). Command-line options still win.

prometheus_client is imported inside the hooks only: it picks its mode when first imported, which
must come after config.settings has set PROMETHEUS_MULTIPROC_DIR."""

import os


def on_starting(server) -> None:
    """In the master, before any worker: an empty folder, so counters start from this run."""
    if os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings") != "config.settings":
        return  # Another app under the same gunicorn (a bench's floor): not ours to touch.
    # Importing the settings sets PROMETHEUS_MULTIPROC_DIR, which the workers inherit.
    from django.conf import settings

    settings.VAR_DIR  # noqa: B018 (loads the settings module)
    from observability.multiproc import multiproc_dir_reset

    multiproc_dir_reset()


def child_exit(server, worker) -> None:
    """A worker is gone: its counters stay counted, its live gauges (if any) go."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
