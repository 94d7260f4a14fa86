"""The public pages and JSON are cached whole, under keys carrying the page's version. Every service
that changes what the page shows calls `page_changed()`: after commit the version moves on, and every
cached page is stale at once (no list of keys to delete, nothing left behind by a race)."""

import logging
import time

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
VERSION_KEY = "statuspage:version"
# A process reads the version from the cache at most this often: a change made in another process
# shows there this much later at worst (readers' browsers may keep a page 30 s anyway), and a cached
# page costs one cache read instead of two (bench/statuspage.py). A change made in this process
# shows on its next request.
SEEN_SECONDS = 1.0
_seen: tuple[str, float] | None = None  # (version, time.monotonic() when read)


def page_version() -> str:
    """The current version. A cache that cannot be reached gives a fresh value: nothing is served
    from (or stored under) a key nobody will invalidate."""
    global _seen
    seen = _seen
    if seen is not None and time.monotonic() - seen[1] < SEEN_SECONDS:
        return seen[0]
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            version = str(time.time_ns())
            cache.add(VERSION_KEY, version, timeout=None)
            version = cache.get(VERSION_KEY, version)
    except Exception:  # Redis down: serve uncached, do not fail the page.
        logger.warning("Status page cache unreachable; serving uncached.", exc_info=True)
        return f"uncached-{time.time_ns()}"
    _seen = (str(version), time.monotonic())
    return str(version)


def _bump() -> None:
    global _seen
    version = str(time.time_ns())
    try:
        cache.set(VERSION_KEY, version, timeout=None)
    except Exception:
        _seen = None
        logger.warning("Status page cache unreachable; the page may show old content.", exc_info=True)
        return
    _seen = (version, time.monotonic())


def page_changed() -> None:
    """Call inside the transaction of a change the page shows."""
    transaction.on_commit(_bump)
