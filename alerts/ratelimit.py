"""The webhook's limits, counted in fixed one-minute windows in Redis (settings.REDIS_URL, through
this module's own connection pool), so every web process shares them; without REDIS_URL (one
machine) they are counted in the cache (files):

- per source, alerts per minute: only what is accepted counts, so a refused batch (or a sender
  retrying it) never eats into the window of the alerts that fit;
- per client, wrong tokens per minute: past the limit the client gets 429 + Retry-After, as DRF's
  throttles answer, whatever it sends, a valid token included. The check rides on the round trip
  that takes the source's alerts (webhook_admit), or on the one that counts the wrong token
  (auth_failure_take); only a request refused for another reason checks it on its own.

The limiter fails open. When Redis (or the cache) cannot be reached the windows are counted in
this process instead, and a warning says so at most once a minute with the number of requests counted
that way: an outage of the cache must never cost an alert."""

import logging
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from redis.commands.core import Script
from rest_framework.throttling import BaseThrottle

from alerts.models import AlertSource
from common.redis_clients import redis_for

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# After the cache fails, how long requests are counted locally before it is tried again.
CACHE_RETRY_SECONDS = 5
# A window's counter outlives its minute a little, so a request at the edge still finds it.
WINDOW_TTL = 120

# Take `n` only if the window stays within `limit`: a refused request leaves the count as it was.
# One round trip and atomic, so two web processes cannot both take the last slot.
_TAKE_SCRIPT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if used + n > tonumber(ARGV[2]) then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[1], n)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, used}
"""


# The webhook's one round trip for an authenticated request: refused if the client is past its
# wrong tokens (-1, the failures), else the take of _TAKE_SCRIPT on the source's window.
_ADMIT_SCRIPT = """
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures >= tonumber(ARGV[1]) then
  return {-1, failures}
end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = tonumber(ARGV[2])
if used + n > tonumber(ARGV[3]) then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[2], n)
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {1, used}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    used: int  # counted in the window after the decision
    retry_after: int  # seconds until the window ends
    key: str = ""  # the window's counter
    amount: int = 0  # what this decision counted in it
    throttled: bool = False  # refused because the client is past its wrong tokens (`used` counts them)


def webhook_admit(source: AlertSource, count: int, ident: str) -> Decision:
    """For an authenticated request: refused (`throttled`) while the client is past its wrong tokens
    for this minute, else source_rate_take's decision. One Redis round trip."""
    window, retry_after = _window()
    failures_key = f"alerts:authfail:{ident}:{window}"
    key, amount = f"alerts:rate:{source.pk}:{window}", max(count, 1)
    failures_limit = settings.ALERT_WEBHOOK_AUTH_FAILURES_PER_MINUTE
    found = None if _local.cache_suspended() else _redis(settings.REDIS_URL)
    if found is not None:
        try:
            outcome, used = found[2](
                keys=[failures_key, key],
                args=[failures_limit, amount, source.rate_limit_per_minute, WINDOW_TTL],
            )
        except Exception as error:  # fail open, as _take does
            _local.note_fallback(error)
        else:
            if outcome == -1:
                return Decision(False, int(used), retry_after, throttled=True)
            return Decision(bool(outcome), int(used), retry_after, key, amount if outcome else 0)
    # The cache (one machine) or this process: the check, then the take.
    failures = _get(failures_key)
    if failures >= failures_limit:
        return Decision(False, failures, retry_after, throttled=True)
    return source_rate_take(source, count)


def auth_failure_take(ident: str) -> Decision:
    """A wrong token: counted, unless the client is already past its limit for this minute (then
    `allowed` is False, and the client is answered 429). One round trip."""
    window, retry_after = _window()
    key = f"alerts:authfail:{ident}:{window}"
    allowed, used = _take(key, 1, settings.ALERT_WEBHOOK_AUTH_FAILURES_PER_MINUTE)
    return Decision(allowed, used, retry_after, throttled=not allowed)


def source_rate_take(source: AlertSource, count: int) -> Decision:
    """Count `count` alerts (an empty payload counts as one request) against the source's window,
    only if they all fit within `rate_limit_per_minute`."""
    window, retry_after = _window()
    key, amount = f"alerts:rate:{source.pk}:{window}", max(count, 1)
    allowed, used = _take(key, amount, source.rate_limit_per_minute)
    return Decision(allowed, used, retry_after, key, amount if allowed else 0)


def source_rate_give_back(decision: Decision) -> None:
    """The alerts counted could not be stored after all (the sender will retry): uncount them."""
    if decision.amount:
        _take(decision.key, -decision.amount, None)


def auth_failures_exceeded(ident: str) -> Decision:
    """Whether this client has used up its wrong tokens for this minute (then `allowed` is False)."""
    window, retry_after = _window()
    used = _get(f"alerts:authfail:{ident}:{window}")
    return Decision(used < settings.ALERT_WEBHOOK_AUTH_FAILURES_PER_MINUTE, used, retry_after)


def client_ident(request: HttpRequest) -> str:
    """The client's address as DRF's throttles see it (X-Forwarded-For behind NUM_PROXIES proxies)."""
    return BaseThrottle().get_ident(request)


def fallback_count() -> int:
    """Requests this process counted locally because the cache was unreachable."""
    return _local.fallbacks


def _window() -> tuple[int, int]:
    now = time.time()
    return int(now // WINDOW_SECONDS), max(1, WINDOW_SECONDS - int(now % WINDOW_SECONDS))


def _take(key: str, amount: int, limit: int | None) -> tuple[bool, int]:
    """Add `amount` to the window unless that passes `limit` (None: no limit): (taken, count after)."""
    if not _local.cache_suspended():
        try:
            return _cache_take(key, amount, limit)
        except Exception as error:  # any failure of the cache: fail open, see the module docstring
            _local.note_fallback(error)
    return _local.take(key, amount, limit)


def _get(key: str) -> int:
    if not _local.cache_suspended():
        try:
            client = redis_client()
            return int((client.get(key) if client else caches["default"].get(key)) or 0)
        except Exception as error:
            _local.note_fallback(error)
    return _local.get(key)


_clients: dict[str, tuple[redis.Redis, Script, Script]] = {}


def redis_client() -> redis.Redis | None:
    """The process's client on REDIS_URL; None without REDIS_URL."""
    found = _redis(settings.REDIS_URL)
    return found[0] if found else None


def _redis(url: str) -> tuple[redis.Redis, Script, Script] | None:
    if not url:
        return None
    found = _clients.get(url)
    if found is None:
        # The process's client (common.redis_clients: short timeouts, so a hung Redis fails open).
        client = redis_for(url)
        # EVALSHA, sending the script's text only when Redis does not know it yet.
        found = _clients.setdefault(
            url, (client, client.register_script(_TAKE_SCRIPT), client.register_script(_ADMIT_SCRIPT))
        )
    return found


def _cache_take(key: str, amount: int, limit: int | None) -> tuple[bool, int]:
    found = _redis(settings.REDIS_URL)
    if found is not None:
        _, take, _ = found
        taken, used = take(keys=[key], args=[amount, _NO_LIMIT if limit is None else limit, WINDOW_TTL])
        return bool(taken), int(used)
    # The cache (files: one machine) has no script: add, then give back what overshot.
    backend = caches["default"]
    backend.add(key, 0, timeout=WINDOW_TTL)
    try:
        used = backend.incr(key, amount)
    except ValueError:  # the key expired between add and incr: this request opens the window
        backend.set(key, amount, timeout=WINDOW_TTL)
        used = amount
    if limit is not None and used > limit:
        return False, backend.decr(key, amount)
    return True, used


_NO_LIMIT = 2**62


class _LocalWindows:
    """This process's own windows, used only while the cache is unreachable."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.fallbacks = 0
        self.logged_at = 0.0
        self.suspended_until = 0.0

    def take(self, key: str, amount: int, limit: int | None) -> tuple[bool, int]:
        with self.lock:
            self.fallbacks += 1
            self._forget_old_windows()
            used = self.counts.get(key, 0)
            if limit is not None and used + amount > limit:
                return False, used
            self.counts[key] = used + amount
            return True, used + amount

    def get(self, key: str) -> int:
        with self.lock:
            self.fallbacks += 1
            return self.counts.get(key, 0)

    def cache_suspended(self) -> bool:
        return time.monotonic() < self.suspended_until

    def note_fallback(self, error: Exception) -> None:
        """The cache failed: leave it alone for a few seconds, so that while it is down (or hangs
        until its socket timeout) requests do not each wait for it; warn at most once a minute."""
        with self.lock:
            now = time.monotonic()
            self.suspended_until = now + CACHE_RETRY_SECONDS
            if self.logged_at and now - self.logged_at < WINDOW_SECONDS:
                return
            self.logged_at = now
        logger.warning(
            "Rate limiter: the cache is unreachable (%s: %s); counting in this process instead, "
            "trying the cache again every %d s (%d request(s) counted locally so far)",
            type(error).__name__,
            error,
            CACHE_RETRY_SECONDS,
            self.fallbacks + 1,
        )

    def _forget_old_windows(self) -> None:
        current = f":{_window()[0]}"
        for key in [k for k in self.counts if not k.endswith(current)]:
            del self.counts[key]


_local = _LocalWindows()
