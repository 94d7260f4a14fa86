"""Brute-force protection for credentials sent with a request (API tokens, webhook tokens): a client
that fails too often within a window is refused with 429 and Retry-After, before its credential
is even looked at, until the window ends."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address NUM_PROXIES trusted proxies put in
    X-Forwarded-For. Axes uses this too, so login lockout and API throttling agree on who a client is."""
    return BaseThrottle().get_ident(request)


class AuthFailureThrottle:
    """Counts failed authentications per client address in fixed windows of `window` seconds; at
    `limit` failures the client is refused until the window ends. Counting uses the cache's atomic
    increment, so parallel guesses are all counted. With the cache unreachable it lets requests
    through (logged): an outage must not lock everyone out."""

    def __init__(self, scope: str, *, limit: int | None = None, window: int | None = None):
        self.scope = scope
        self.limit = limit if limit is not None else settings.AUTH_FAILURE_LIMIT
        self.window = window if window is not None else settings.AUTH_FAILURE_WINDOW_SECONDS

    def _key(self, request: HttpRequest, now: float) -> str:
        return f"auth-failures:{self.scope}:{client_ip(request)}:{int(now // self.window)}"

    def check(self, request: HttpRequest) -> None:
        """Raise Throttled (429, Retry-After) when this client has failed too often lately."""
        now = time.time()
        try:
            failures = cache.get(self._key(request, now), 0)
        except Exception:
            logger.warning("auth failure throttle: cache unavailable, not throttling", exc_info=True)
            return
        if failures >= self.limit:
            wait = self.window - (now % self.window)
            # DRF adds "Expected available in N seconds." and the Retry-After header.
            raise Throttled(wait=wait, detail="Too many failed authentications from your address.")

    def record_failure(self, request: HttpRequest) -> None:
        key = self._key(request, time.time())
        try:
            cache.add(key, 0, timeout=self.window)
            cache.incr(key)
        except Exception:
            logger.warning("auth failure throttle: cache unavailable, failure not counted", exc_info=True)
