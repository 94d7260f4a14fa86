"""The subscribe form's limits, so it cannot be used to mail-bomb an address or fill the table:
requests per client address per hour, and confirmation emails per email address per day. Counted
in fixed windows in Redis (alerts.ratelimit's connection pool) or, without REDIS_URL, in the cache;
the address is hashed in the key, never stored in clear there.

A refused request counts nothing. Like the alert webhook's limiter this fails open: a cache outage
must not take the form down (the per-address limit is then this process's only)."""

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

from alerts.ratelimit import client_ident, redis_client

logger = logging.getLogger(__name__)

HOUR = 3600
DAY = 86400

# Take 1 only while the window stays within the limit; one atomic round trip.
_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + 1 > tonumber(ARGV[1]) then
  return {0, used}
end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {1, used}
"""


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds until the window that refused ends


def _window(seconds: int) -> tuple[int, int]:
    now = time.time()
    return int(now // seconds), max(1, seconds - int(now % seconds))


def _take(key: str, limit: int, ttl: int) -> bool:
    try:
        client = redis_client()
        if client is not None:
            taken, _ = client.eval(_TAKE, 1, key, limit, ttl)
            return bool(taken)
        cache = caches["default"]
        cache.add(key, 0, timeout=ttl)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=ttl)
            used = 1
        if used > limit:
            cache.decr(key)
            return False
        return True
    except Exception as error:  # fail open, see the module docstring
        logger.warning("Subscribe limits: cache unreachable (%s); not limiting.", type(error).__name__)
        return True


def subscribe_rate_take(request: HttpRequest, email: str) -> Refusal | None:
    """Count this request against its client and its address; a Refusal when either is used up
    (then nothing was counted for the address)."""
    window, retry = _window(HOUR)
    ip_key = f"statuspage:subscribe:ip:{client_ident(request)}:{window}"
    if not _take(ip_key, settings_int("STATUSPAGE_SUBSCRIBE_PER_IP_PER_HOUR", 5), HOUR + 60):
        return Refusal(retry_after=retry)
    window, retry = _window(DAY)
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    email_key = f"statuspage:subscribe:email:{digest}:{window}"
    if not _take(email_key, settings_int("STATUSPAGE_CONFIRM_EMAILS_PER_DAY", 3), DAY + 60):
        return Refusal(retry_after=retry)
    return None


def settings_int(name: str, default: int) -> int:
    return int(getattr(settings, name, default))
