"""GET /healthz: the liveness probe answers without touching the database (its tests have no
database access: any query would fail them). GET /readyz: the readiness probe checks and reports
the database, the cache and the broker separately."""

import time

import pytest
from django.db import connection

from tests.conftest import ON_POSTGRES, celery_broker


def test_healthz_answers_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_healthz_is_get_only(client):
    assert client.post("/healthz").status_code == 405


# --- GET /readyz: each dependency on its own ------------------------------------------------------

# Nothing listens on port 1: connections are refused at once, as when the server is stopped.
DEAD_REDIS = "redis://127.0.0.1:1/0"
LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.mark.django_db
def test_readyz_reports_each_dependency(client, settings):
    settings.CACHES = LOCAL_CACHE
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cache": True,
        "broker": True,
    }
    assert all(check["ms"] >= 0 for check in body["checks"].values())
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_without_the_cache_is_degraded_but_ready(client, settings):
    """The webhook stores alerts without Redis (its limits fail open): stay in rotation."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}
    }
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {
        "ok": False,
        "ms": body["checks"]["cache"]["ms"],
        "error": "ConnectionError",
    }
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


@pytest.mark.django_db
def test_readyz_without_the_broker_is_degraded_but_ready(client, settings):
    settings.CACHES = LOCAL_CACHE
    with celery_broker(DEAD_REDIS, settings.BROKER_FAIL_FAST):
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert not body["checks"]["broker"]["ok"] and body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    assert elapsed < 5


@pytest.mark.django_db(transaction=True)
def test_readyz_without_the_database_is_unavailable(client, settings):
    settings.CACHES = LOCAL_CACHE
    saved = dict(connection.settings_dict)
    connection.close()
    if ON_POSTGRES:
        connection.settings_dict["PORT"] = "1"
    else:
        connection.settings_dict["NAME"] = "/nonexistent/mitigate.sqlite3"
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {
        "ok": False,
        "ms": body["checks"]["database"]["ms"],
        "error": "OperationalError",
    }
    assert body["checks"]["cache"]["ok"] and body["checks"]["broker"]["ok"]
