import logging
import time

from django.core.cache import cache

from observability.sweeps import cache_key, sweeps_by_task

logger = logging.getLogger(__name__)


def sweep_success_record(*, task_name: str, at: float | None = None) -> bool:
    """Note that the beat sweep running `task_name` just succeeded; False for a task that is no
    sweep. A cache that is down costs the record, never the task (logged)."""
    name = sweeps_by_task().get(task_name)
    if name is None:
        return False
    try:
        cache.set(cache_key(name), at if at is not None else time.time(), timeout=None)
    except Exception:
        logger.warning("Could not record the last run of sweep %s: cache unavailable", name, exc_info=True)
        return False
    return True
