"""The webhook alert sources post to. Plain Django, no DRF: the path must stay fast, and every answer
is JSON `{"detail", "code"}`. Alertmanager retries 5xx and drops 4xx, so bad input always gets a 4xx
and only a failure to store answers 503."""

import hashlib
import hmac
import json
import logging
import time
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alerts.models import AlertSource
from alerts.parsers import ParsedPayload, PayloadError, parse
from alerts.services import FINGERPRINT_LENGTH, alerts_ingest, token_hash

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
# A rate window's counter outlives its minute a little, so a request at the edge still finds it.
RATE_WINDOW_TTL = 120


def _error(status: int, code: str, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _authenticate(request: HttpRequest, key: str) -> AlertSource | None:
    """The source named by the path: `key` is its token, or its slug with the token as a bearer."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, bearer = authorization.partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        source = AlertSource.objects.select_related("default_service").filter(slug=key).first()
        presented = token_hash(bearer.strip())
    else:
        presented = token_hash(key)
        source = AlertSource.objects.select_related("default_service").filter(token_hash=presented).first()
    if source is None or not hmac.compare_digest(source.token_hash, presented):
        return None
    return source


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is over `limit` bytes (announced or actual)."""
    try:
        announced = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        announced = 0
    if announced > limit:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return None if len(body) > limit else body


def _signature_valid(secret: str, body: bytes, signature: str) -> bool:
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _decode(body: bytes) -> Any:
    """The JSON document, refusing what the database cannot store (NaN, Infinity, NUL characters)."""
    if not body.strip():
        raise PayloadError("the body is empty; expected a JSON object")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise PayloadError("the body is not valid JSON: nested too deeply") from None
    except ValueError as error:
        raise PayloadError(f"the body is not valid JSON: {error}") from None
    # PostgreSQL's jsonb has no NUL character; the walk runs only when an escape for one is present.
    if b"\\u0000" in body and _contains_nul(data):
        raise PayloadError("the body contains a NUL character (\\u0000), which cannot be stored")
    return data


def _check_lengths(payload: ParsedPayload) -> None:
    for index, alert in enumerate(payload.alerts):
        if len(alert.fingerprint) > FINGERPRINT_LENGTH:
            raise PayloadError(f"alerts[{index}].fingerprint is longer than {FINGERPRINT_LENGTH} characters")


def _within_rate_limit(source: AlertSource, count: int) -> tuple[bool, int]:
    """Count `count` alerts against the source's fixed one-minute window: (allowed, seconds left)."""
    now = time.time()
    window = int(now // 60)
    used = _window_add(f"alerts:rate:{source.pk}:{window}", max(count, 1))
    retry_after = max(1, 60 - int(now % 60))
    return used <= source.rate_limit_per_minute, retry_after


def _window_add(key: str, amount: int) -> int:
    """Add `amount` to a counter that lives two minutes; returns the new total. On Redis (production)
    this is one round trip, INCRBY and EXPIRE in a pipeline, instead of the cache API's three
    (add, then incr, which checks the key exists first): it runs on every webhook request."""
    backend = caches["default"]  # the backend itself: `cache` is a proxy, which isinstance cannot see
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        # Django's Redis cache stores ints as plain Redis integers, so cache.get(key) reads this too.
        pipeline = backend._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipeline.incrby(full_key, amount)
        pipeline.expire(full_key, RATE_WINDOW_TTL)
        used, _ = pipeline.execute()
        return used
    cache.add(key, 0, timeout=RATE_WINDOW_TTL)
    try:
        return cache.incr(key, amount)
    except ValueError:
        # The key expired between add and incr; this request opens the window.
        cache.set(key, amount, timeout=RATE_WINDOW_TTL)
        return amount


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, key: str) -> JsonResponse:
    source = _authenticate(request, key)
    if source is None:
        return _error(401, "not_authenticated", "Unknown or missing alert source token.")
    if not source.enabled:
        return _error(403, "source_disabled", f"The alert source {source.slug!r} is disabled.")

    body = _read_body(request, source.max_body_bytes)
    if body is None:
        return _error(413, "too_large", f"The body is larger than {source.max_body_bytes} bytes.")

    if source.hmac_secret:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            return _error(401, "signature_missing", f"The {SIGNATURE_HEADER} header is required.")
        if not _signature_valid(source.hmac_secret, body, signature):
            return _error(401, "signature_invalid", f"The {SIGNATURE_HEADER} header does not match the body.")

    try:
        raw = _decode(body)
        payload = parse(source.kind, raw)
        _check_lengths(payload)
    except PayloadError as error:
        return _error(400, "invalid_payload", str(error))

    allowed, retry_after = _within_rate_limit(source, len(payload.alerts))
    if not allowed:
        return _error(
            429,
            "rate_limited",
            f"Over {source.rate_limit_per_minute} alerts per minute for {source.slug!r}; retry later.",
            Retry_After=str(retry_after),
        )

    try:
        alerts = alerts_ingest(source=source, payload=payload, raw=raw)
    except DatabaseError:
        logger.exception("Could not store alerts from source %s", source.slug)
        return _error(503, "unavailable", "The alerts could not be stored; retry.", Retry_After="5")
    return JsonResponse({"stored": len(alerts), "alerts": [alert.pk for alert in alerts]}, status=202)
