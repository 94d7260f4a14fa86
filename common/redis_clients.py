"""One Redis client per URL and process, shared by its threads: a client is costly to build, and the
webhook uses one on every request (its rate limits, its processing message)."""

import threading

import redis

# A Redis that hangs must not hang a request: past this its caller falls back (the rate limiter
# counts locally, a publish goes to the outbox).
REDIS_TIMEOUT_SECONDS = 1

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def redis_for(url: str) -> redis.Redis:
    """The process's client on `url`, with its own connection pool and short timeouts."""
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                pool = redis.ConnectionPool.from_url(
                    url,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                )
                client = _clients[url] = redis.Redis(connection_pool=pool)
    return client
