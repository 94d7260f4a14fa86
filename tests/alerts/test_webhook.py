"""POST /hooks/<token>/ and /hooks/<slug>/ with a bearer token: every answer, through the real
URL configuration and middleware."""

import hashlib
import hmac
import json
import os
import threading
import time
import uuid

import pytest
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.test import Client

import alerts.views
from alerts.models import Alert, AlertPayload, AlertSource
from alerts.services import alert_source_rotate_token
from common.actor import Actor
from tests.alerts.conftest import load
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.django_db

SINGLE = load("alertmanager_firing_single.json")


def post(client, url, data=None, body=None, **headers):
    if body is None:
        body = json.dumps(SINGLE if data is None else data)
    return client.post(url, data=body, content_type="application/json", headers=headers)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    payload = response.json()
    assert payload["code"] == code
    assert payload["detail"]
    return payload


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- success --------------------------------------------------------------------------------------


def test_token_in_path(client, make_source):
    source, token = make_source()
    response = post(client, f"/hooks/{token}/")

    assert response.status_code == 202
    alert = Alert.objects.get()
    assert response.json() == {"stored": 1, "alerts": [alert.pk]}
    assert alert.source == source


def test_slug_with_bearer_token(client, make_source):
    source, token = make_source(name="Prod AM")
    response = post(client, f"/hooks/{source.slug}/", Authorization=f"Bearer {token}")

    assert response.status_code == 202
    assert Alert.objects.get().source == source


def test_each_kind_uses_its_parser(client, make_source):
    _, grafana = make_source(name="Grafana", kind="grafana")
    _, generic = make_source(name="Cron", kind="generic")

    assert post(client, f"/hooks/{grafana}/", load("grafana_values.json")).status_code == 202
    response = post(client, f"/hooks/{generic}/", load("generic_single.json"))
    assert response.status_code == 202
    assert Alert.objects.get(pk=response.json()["alerts"][0]).fingerprint == "backup-db-1"


def test_mixed_payload(client, make_source):
    _, token = make_source()
    response = post(client, f"/hooks/{token}/", load("alertmanager_batch_mixed.json"))

    assert response.status_code == 202
    assert response.json()["stored"] == 3
    assert sorted(Alert.objects.values_list("status", flat=True)) == ["firing", "firing", "resolved"]


def test_100_identical_posts_give_one_alert(client, make_source):
    _, token = make_source()
    for _ in range(100):
        assert post(client, f"/hooks/{token}/").status_code == 202

    alert = Alert.objects.get()
    assert alert.occurrence_count == 100


def test_empty_alert_list_is_accepted(client, make_source):
    _, token = make_source()
    data = dict(SINGLE, alerts=[])
    response = post(client, f"/hooks/{token}/", data)

    assert response.status_code == 202
    assert response.json() == {"stored": 0, "alerts": []}
    assert AlertPayload.objects.get().alert_count == 0


# --- 401, 403, 405 --------------------------------------------------------------------------------


def test_unknown_token(client, make_source):
    make_source()
    assert_error(post(client, "/hooks/not-a-token/"), 401, "not_authenticated")
    assert not AlertPayload.objects.exists()


def test_slug_without_or_with_a_wrong_bearer(client, make_source):
    source, token = make_source()
    assert_error(post(client, f"/hooks/{source.slug}/"), 401, "not_authenticated")
    assert_error(
        post(client, f"/hooks/{source.slug}/", Authorization="Bearer wrong"), 401, "not_authenticated"
    )
    assert_error(
        post(client, "/hooks/no-such-slug/", Authorization=f"Bearer {token}"), 401, "not_authenticated"
    )
    assert not Alert.objects.exists()


def test_rotated_token_stops_working(client, make_source):
    source, old = make_source()
    new = alert_source_rotate_token(source=source, by=Actor.system())

    assert_error(post(client, f"/hooks/{old}/"), 401, "not_authenticated")
    assert post(client, f"/hooks/{new}/").status_code == 202


def test_disabled_source(client, make_source):
    _, token = make_source(enabled=False)
    assert_error(post(client, f"/hooks/{token}/"), 403, "source_disabled")
    assert not AlertPayload.objects.exists()


def test_only_post(client, make_source):
    _, token = make_source()
    assert client.get(f"/hooks/{token}/").status_code == 405


# --- 413 ------------------------------------------------------------------------------------------


def test_body_over_the_source_limit(client, make_source):
    _, token = make_source(max_body_bytes=500)
    body = json.dumps(load("alertmanager_batch_mixed.json"))
    assert len(body) > 500

    payload = assert_error(post(client, f"/hooks/{token}/", body=body), 413, "too_large")
    assert "500" in payload["detail"]
    assert not AlertPayload.objects.exists()


def test_actual_body_longer_than_announced(rf, make_source):
    """A Content-Length that understates the body does not get it past the limit."""
    _, token = make_source(max_body_bytes=100)
    request = rf.post(f"/hooks/{token}/", data=b"{" + b" " * 200 + b"}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = "10"
    request._body = b"{" + b" " * 200 + b"}"

    response = alerts.views.webhook(request, key=token)
    assert response.status_code == 413
    assert json.loads(response.content)["code"] == "too_large"


def test_body_over_the_global_request_limit(client, make_source, settings):
    _, token = make_source(max_body_bytes=10 * 1024 * 1024)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(dict(SINGLE, padding="x" * 2000))

    assert_error(post(client, f"/hooks/{token}/", body=body), 413, "too_large")


# --- 400 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("", "empty"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"version": "4", "status": "firing"}', "alerts is required"),
        ('{"alerts": [{"status": "firing", "labels": {"a": 1}}]}', "alerts[0].labels"),
        ('{"alerts": [], "x": NaN}', "NaN"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"alerts": [], "x": "a\\u0000b"}', "NUL"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ],
)
def test_bad_payloads_name_the_problem(client, make_source, body, named):
    _, token = make_source(max_body_bytes=1024 * 1024)
    payload = assert_error(post(client, f"/hooks/{token}/", body=body), 400, "invalid_payload")
    assert named in payload["detail"]
    assert not AlertPayload.objects.exists()


def test_overlong_fingerprint(client, make_source):
    _, token = make_source()
    data = json.loads(json.dumps(SINGLE))
    data["alerts"][0]["fingerprint"] = "f" * 300
    payload = assert_error(post(client, f"/hooks/{token}/", data), 400, "invalid_payload")
    assert "alerts[0].fingerprint" in payload["detail"]


def test_overlong_name_is_cut_not_refused(client, make_source):
    _, token = make_source()
    data = json.loads(json.dumps(SINGLE))
    data["alerts"][0]["labels"]["alertname"] = "n" * 1000
    assert post(client, f"/hooks/{token}/", data).status_code == 202
    assert len(Alert.objects.get().name) == 255


# --- Grafana signature ----------------------------------------------------------------------------


def test_grafana_signature(client, make_source):
    _, token = make_source(kind="grafana", hmac_secret="s3cret")
    body = json.dumps(load("grafana_values.json")).encode()
    url = f"/hooks/{token}/"

    response = post(client, url, body=body, X_Grafana_Alerting_Signature=sign("s3cret", body))
    assert response.status_code == 202

    assert_error(post(client, url, body=body), 401, "signature_missing")
    assert_error(
        post(client, url, body=body, X_Grafana_Alerting_Signature=sign("other", body)),
        401,
        "signature_invalid",
    )
    tampered = body.replace(b"app-2", b"app-3")
    assert_error(
        post(client, url, body=tampered, X_Grafana_Alerting_Signature=sign("s3cret", body)),
        401,
        "signature_invalid",
    )
    assert AlertPayload.objects.count() == 1


def test_no_signature_needed_without_a_secret(client, make_source):
    _, token = make_source(kind="grafana")
    assert post(client, f"/hooks/{token}/", load("grafana_values.json")).status_code == 202


# --- 429 ------------------------------------------------------------------------------------------


def test_rate_limit(client, make_source):
    _, token = make_source(rate_limit_per_minute=3)
    for _ in range(3):
        assert post(client, f"/hooks/{token}/").status_code == 202

    response = post(client, f"/hooks/{token}/")
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Alert.objects.get().occurrence_count == 3


def test_rate_limit_counts_alerts_and_is_per_source(client, make_source):
    _, busy = make_source(name="Busy", rate_limit_per_minute=2)
    _, quiet = make_source(name="Quiet", rate_limit_per_minute=2)

    assert_error(post(client, f"/hooks/{busy}/", load("alertmanager_batch_mixed.json")), 429, "rate_limited")
    assert post(client, f"/hooks/{quiet}/").status_code == 202
    assert not Alert.objects.filter(source__name="Busy").exists()


# --- 503 ------------------------------------------------------------------------------------------


def test_storage_failure_is_503_so_the_sender_retries(client, make_source, monkeypatch):
    _, token = make_source()

    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(alerts.views, "alerts_ingest", broken)
    response = post(client, f"/hooks/{token}/")
    assert_error(response, 503, "unavailable")
    assert response["Retry-After"]


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_posts_give_one_alert(make_source):
    _, token = make_source()
    body = json.dumps(SINGLE)
    threads = 10
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    lock = threading.Lock()

    def send():
        try:
            barrier.wait()
            response = Client().post(f"/hooks/{token}/", data=body, content_type="application/json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert statuses == [202] * threads
    alert = Alert.objects.get()
    assert alert.occurrence_count == threads
    assert AlertPayload.objects.count() == threads
    assert AlertSource.objects.count() == 1


# --- batches and the Redis rate limiter -----------------------------------------------------------


def test_batch_of_100_alerts(client, make_source, django_assert_max_num_queries):
    _, token = make_source()
    data = load("alertmanager_firing_single.json")
    template = data["alerts"][0]
    data["alerts"] = [{**template, "fingerprint": f"fp-{i:03d}"} for i in range(100)]

    # Source, payload, one locking read, one bulk insert (and the test's savepoint and release);
    # SQLite caps a statement at 999 parameters, so there the insert comes in a few pieces.
    with django_assert_max_num_queries(6 if ON_POSTGRES else 10):
        response = post(client, f"/hooks/{token}/", data)

    assert response.status_code == 202
    assert response.json()["stored"] == 100
    assert sorted(response.json()["alerts"]) == sorted(Alert.objects.values_list("pk", flat=True))
    assert AlertPayload.objects.get().alert_count == 100


@pytest.mark.integration
def test_rate_limit_on_redis_counts_in_one_window(client, make_source, settings):
    """The production cache: the counter is a Redis integer that expires, shared with the cache API."""
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-webhook-{uuid.uuid4().hex}",
        }
    }
    try:
        caches["default"].get("ping")
    except Exception:
        pytest.skip(f"no Redis at {redis_url}")
    source, token = make_source(rate_limit_per_minute=4)

    assert post(client, f"/hooks/{token}/", load("alertmanager_batch_mixed.json")).status_code == 202
    assert post(client, f"/hooks/{token}/").status_code == 202
    assert_error(post(client, f"/hooks/{token}/"), 429, "rate_limited")

    keys = [
        f"alerts:rate:{source.pk}:{window}" for window in (int(time.time() // 60) - 1, int(time.time() // 60))
    ]
    assert max(caches["default"].get(key) or 0 for key in keys) == 5
    backend = caches["default"]
    for key in keys:
        full_key = backend.make_and_validate_key(key)
        ttl = backend._cache.get_client(full_key).ttl(full_key)
        assert ttl == -2 or 0 < ttl <= 120
        backend.delete(key)
