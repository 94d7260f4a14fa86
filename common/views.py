"""Plain Django views shared by the whole site."""

import logging
import time
from collections.abc import Callable

from axes.helpers import get_client_username, get_cool_off
from celery import current_app
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

READY_CACHE_KEY = "readyz:probe"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and orchestrators: the process answers requests. It touches
    neither the database nor the cache, so a slow dependency does not get healthy workers killed."""
    return JsonResponse({"ok": True})


def login_locked_out(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes calls this when a login is refused by lockout: the admin's login page again,
    saying why and for how long, with 429 and Retry-After."""
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    message = "Too many failed logins for this username from your address: logging in is locked"
    message += f" for {minutes} minutes." if minutes else " until an administrator unlocks it."
    message += " An administrator can unlock it now under Axes > Access attempts."
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "app_path": request.get_full_path(),
        "form": AdminAuthenticationForm(
            request, initial={"username": get_client_username(request, credentials)}
        ),
        "next": request.POST.get("next") or reverse("admin:index"),
        "lockout_message": message,
    }
    response = TemplateResponse(request, "admin/login.html", context, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    # Returned from middleware, after the point where Django renders template responses.
    return response.render()


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness probe: the database, the cache and the broker, each checked and reported on its own
    (`ok`, `ms`, and the error's type; the full error goes to the log, not to whoever asks).

    Only the database decides readiness (503 without it). Without the cache the webhook's rate limits
    fail open and without the broker stored alerts wait for the sweeper, so a web process still does
    its job: it reports "degraded", and taking it out of rotation would refuse alerts it can store."""
    checks = {
        "database": _check("database", _database),
        "cache": _check("cache", _cache),
        "broker": _check("broker", _broker),
    }
    ready = checks["database"]["ok"]
    if not ready:
        state = "unavailable"
    elif all(check["ok"] for check in checks.values()):
        state = "ok"
    else:
        state = "degraded"
    return JsonResponse({"status": state, "checks": checks}, status=200 if ready else 503)


def _check(name: str, probe: Callable[[], None]) -> dict:
    started = time.monotonic()
    try:
        probe()
    except Exception as error:
        logger.warning("Readiness: the %s is unavailable: %s: %s", name, type(error).__name__, error)
        return {"ok": False, "ms": _ms(started), "error": type(error).__name__}
    return {"ok": True, "ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    cache.set(READY_CACHE_KEY, "1", timeout=10)
    if cache.get(READY_CACHE_KEY) != "1":
        raise RuntimeError("the cache did not keep a value")


def _broker() -> None:
    # Publishing gives up after one quick retry (the broker's transport options), like the webhook.
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
