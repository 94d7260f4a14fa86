"""The webhook alert sources post to. Plain Django, no DRF: the path must stay fast, and every answer
is JSON `{"detail", "code"}`. Alertmanager retries 5xx and drops 4xx, so bad input always gets a 4xx
and only a failure on our side answers 5xx (503 for the database, with Retry-After). Redis being
down costs nothing: the rate limits fail open (alerts.ratelimit). A client past its wrong tokens gets
429 whatever it sends. Log lines name a source by its slug or token prefix, never by its token."""

import hmac
import logging
import time

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alerts.metrics import SOURCE_ATTRIBUTE, webhook_observe
from alerts.models import AlertSource
from alerts.parsers import PayloadError, parse
from alerts.parsers.body import SIGNATURE_HEADER, body_decode, signature_valid
from alerts.ratelimit import (
    Decision,
    auth_failure_take,
    auth_failures_exceeded,
    client_ident,
    source_rate_give_back,
    webhook_admit,
)
from alerts.selectors import alert_source_for_webhook, alert_source_kept
from alerts.services import SourceChangedError, alerts_receive, payload_check, token_hash
from common.db_health import health_check_take_over
from common.logfilters import redact_key
from common.middleware import skips_middleware

logger = logging.getLogger(__name__)


def _error(status: int, code: str, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _named(request: HttpRequest, key: str) -> tuple[dict[str, str], str]:
    """How the path names its source (`key` is its token, or its slug with the token as a bearer),
    and the hash of the token presented."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, bearer = authorization.partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        return {"slug": key}, token_hash(bearer.strip())
    presented = token_hash(key)
    return {"token_hash": presented}, presented


def _authenticated(source: AlertSource | None, presented: str) -> AlertSource | None:
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


@skips_middleware
@csrf_exempt
@require_POST
def webhook(request: HttpRequest, key: str) -> JsonResponse:
    """Every failure is JSON with Retry-After, so Alertmanager retries it: the database unreachable
    (also when the source is looked up) is a 503, anything unexpected a 500."""
    started = time.perf_counter()
    try:
        response = _receive(request, key)
    except DatabaseError:
        logger.exception("Webhook: the database is unavailable (source %s)", redact_key(key))
        response = _error(503, "unavailable", "The alerts could not be stored; retry.", Retry_After="5")
    except Exception:
        logger.exception("Webhook: unexpected error (source %s)", redact_key(key))
        response = _error(500, "server_error", "The alerts could not be stored; retry.", Retry_After="30")
    webhook_observe(request=request, response=response, seconds=time.perf_counter() - started)
    return response


def _receive(request: HttpRequest, key: str) -> JsonResponse:
    client = client_ident(request)
    named, presented = _named(request, key)
    kept = _authenticated(alert_source_kept(**named), presented)
    if kept is not None:
        response = _receive_kept(request, kept, client)
        if response is not None and response.status_code == 202:
            return response
        if response is not None:
            # Refused on the kept source: the refusal stands if the source's row is unchanged.
            current = alert_source_for_webhook(**named)
            if current is not None and (current.pk, current.updated_at) == (kept.pk, kept.updated_at):
                return _refused(response, client)
    # The source as its row is now. It can still change before the alerts are stored: then the
    # request is checked again, once.
    for _ in range(2):
        source = _authenticated(alert_source_for_webhook(**named), presented)
        if source is None:
            throttle = auth_failure_take(client)
            if throttle.throttled:
                return _too_many_failures(throttle)
            return _error(401, "not_authenticated", "Unknown or missing alert source token.")
        setattr(request, SOURCE_ATTRIBUTE, source.slug)  # for the metrics (alerts.metrics)
        try:
            response = _receive_from(request, source, client)
        except SourceChangedError:
            continue
        return response if response.status_code == 202 else _refused(response, client)
    detail = "The alert source changed while the alerts were stored; retry."
    return _error(503, "unavailable", detail, Retry_After="1")


def _receive_kept(request: HttpRequest, source: AlertSource, client: str) -> JsonResponse | None:
    """The request taken on the source as this process last read it, without a lookup: its answer,
    or None if the source's row had changed when the alerts were to be stored (nothing stored).
    The upsert is then the request's first statement, so it stands in for the connection's health
    check (common.db_health); a refusal comes before any statement and leaves the check due."""
    checking = health_check_take_over()
    setattr(request, SOURCE_ATTRIBUTE, source.slug)  # for the metrics (alerts.metrics)
    try:
        response = _receive_from(request, source, client)
    except SourceChangedError:
        return None
    except (OperationalError, InterfaceError):
        if not checking:
            raise
        connection.close()  # dropped by the server: the fresh read opens a new one
        return None
    if checking and response.status_code != 202:
        connection.health_check_done = False
    return response


def _refused(response: JsonResponse, client: str) -> JsonResponse:
    """A client past its wrong tokens gets 429 whatever it sends; an accepted request was checked on
    the round trip that took its alerts (webhook_admit), a rate-limited one on the one refusing it."""
    if response.status_code != 429:
        throttle = auth_failures_exceeded(client)
        if not throttle.allowed:
            return _too_many_failures(throttle)
    return response


def _too_many_failures(throttle: Decision) -> JsonResponse:
    return _error(
        429,
        "too_many_failures",
        f"Too many requests with a wrong token from this address ({throttle.used} this minute); retry later.",
        Retry_After=str(throttle.retry_after),
    )


def _receive_from(request: HttpRequest, source: AlertSource, client: str) -> JsonResponse:
    if not source.enabled:
        return _error(403, "source_disabled", f"The alert source {source.slug!r} is disabled.")

    body = _read_body(request, source.max_body_bytes)
    if body is None:
        return _error(413, "too_large", f"The body is larger than {source.max_body_bytes} bytes.")

    if source.hmac_secret:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            return _error(401, "signature_missing", f"The {SIGNATURE_HEADER} header is required.")
        if not signature_valid(secret=source.hmac_secret, body=body, signature=signature):
            return _error(401, "signature_invalid", f"The {SIGNATURE_HEADER} header does not match the body.")

    try:
        raw = body_decode(body)
        payload = parse(source.kind, raw)
        payload_check(source=source, payload=payload)
    except PayloadError as error:
        return _error(400, "invalid_payload", str(error))

    limit, count = source.rate_limit_per_minute, len(payload.alerts)
    if 0 < limit < count:
        # It would never fit, however long the sender waits: say so rather than 429 forever.
        return _error(
            413,
            "batch_too_large",
            f"{count} alerts in one request, but {source.slug!r} may post at most {limit} alerts per "
            "minute; send smaller batches (Alertmanager: max_alerts in the webhook_config).",
        )
    decision = webhook_admit(source, count, client)
    if decision.throttled:
        return _too_many_failures(decision)
    if not decision.allowed:
        return _error(
            429,
            "rate_limited",
            f"{source.slug!r} may post {limit} alerts per minute and has posted {decision.used} this "
            f"minute; {count} more do not fit, retry later.",
            Retry_After=str(decision.retry_after),
        )

    try:
        # The body as posted is stored (valid UTF-8: it decoded as JSON), not `raw` serialized again.
        ids = alerts_receive(
            source=source, payload=payload, raw=raw, body=body.decode(), as_of=source.updated_at
        )
    except Exception:
        source_rate_give_back(decision)  # not accepted: its retry must find room
        raise
    return JsonResponse({"stored": len(ids), "alerts": ids}, status=202)
