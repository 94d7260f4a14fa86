"""Celery queue lengths, read from the broker itself: messages waiting, not yet taken by a worker
(a message a worker has prefetched or is running is not counted)."""

import functools
import os
from pathlib import Path

import redis
from django.conf import settings

# kombu's Redis transport keeps a queue's messages of priority p > 0 in "<queue>\x06\x16<p>"
# (kombu.transport.redis: sep, PRIORITY_STEPS); plain messages are in "<queue>" itself.
REDIS_PRIORITY_SEPARATOR = "\x06\x16"
REDIS_PRIORITY_STEPS = (0, 3, 6, 9)


def queue_names() -> list[str]:
    """Every queue the route table sends to, and the default one."""
    names = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    names.add(settings.CELERY_TASK_DEFAULT_QUEUE)
    return sorted(names)


@functools.cache
def _redis(url: str) -> redis.Redis:
    # One client (and connection pool) per process; short timeouts so a hung Redis costs a scrape
    # a second, not the scraper's whole timeout.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def queue_lengths() -> dict[str, int] | None:
    """Queue name -> messages waiting; None for a broker this cannot read (neither Redis nor the
    filesystem transport). Raises when the broker is unreachable."""
    url = settings.CELERY_BROKER_URL
    names = queue_names()
    if url.startswith(("redis://", "rediss://", "unix://")):
        pipeline = _redis(url).pipeline(transaction=False)
        for name in names:
            for step in REDIS_PRIORITY_STEPS:
                pipeline.llen(f"{name}{REDIS_PRIORITY_SEPARATOR}{step}" if step else name)
        lengths = iter(pipeline.execute())
        return {name: sum(next(lengths) for _ in REDIS_PRIORITY_STEPS) for name in names}
    if url.startswith("filesystem://"):
        # kombu.transport.filesystem names each message "<time>_<uuid>.<queue>.msg" in one folder.
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        counts = dict.fromkeys(names, 0)
        with os.scandir(folder) as entries:
            for entry in entries:
                parts = entry.name.rsplit(".", 2)
                if len(parts) == 3 and parts[2] == "msg" and parts[1] in counts:
                    counts[parts[1]] += 1
        return counts
    return None
