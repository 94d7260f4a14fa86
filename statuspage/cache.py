"""The public pages and JSON are cached whole, under keys carrying the page's version. Every service
that changes what the page shows calls `page_changed()`: after commit the version moves on, and every
cached page is stale at once (no list of keys to delete, nothing left behind by a race)."""

import logging
import time

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
VERSION_KEY = "statuspage:version"


def page_version() -> str:
    """The current version. A cache that cannot be reached gives a fresh value: nothing is served
    from (or stored under) a key nobody will invalidate."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            version = str(time.time_ns())
            cache.add(VERSION_KEY, version, timeout=None)
            version = cache.get(VERSION_KEY, version)
    except Exception:  # Redis down: serve uncached, do not fail the page.
        logger.warning("Status page cache unreachable; serving uncached.", exc_info=True)
        return f"uncached-{time.time_ns()}"
    return str(version)


def _bump() -> None:
    try:
        cache.set(VERSION_KEY, str(time.time_ns()), timeout=None)
    except Exception:
        logger.warning("Status page cache unreachable; the page may show old content.", exc_info=True)


def page_changed() -> None:
    """Call inside the transaction of a change the page shows."""
    transaction.on_commit(_bump)
