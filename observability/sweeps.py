"""Which beat entries are sweeps, and where their last success is kept: the cache (Redis in
production), shared by every worker and the web processes, whichever machine they are on."""

from datetime import timedelta

from django.conf import settings

CACHE_PREFIX = "observability:sweep-last-success:"


def sweeps_by_task() -> dict[str, str]:
    """Task name -> beat entry name, for the entries of CELERY_BEAT_SCHEDULE."""
    return {entry["task"]: name for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}


def sweep_interval_seconds(name: str) -> float | None:
    """The entry's interval when it runs every so many seconds (None for a crontab)."""
    schedule = settings.CELERY_BEAT_SCHEDULE[name]["schedule"]
    return schedule.total_seconds() if isinstance(schedule, timedelta) else None


def cache_key(name: str) -> str:
    return f"{CACHE_PREFIX}{name}"
