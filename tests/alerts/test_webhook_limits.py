"""The webhook's limits: body size (413), alerts per minute per source (429, in Redis or in the
cache, and only what was stored counts), wrong tokens per client, label and annotation caps, and
the limiter failing open when Redis is down."""

import json
import logging
import os
import time

import pytest
from django.db import DatabaseError
from django.test import override_settings

import alerts.views
from alerts import ratelimit
from alerts.models import Alert, AlertPayload
from tests.alerts.conftest import load
from tests.alerts.support import SINGLE, am_alert, am_payload, assert_error, post
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.django_db


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
    _, busy = make_source(name="Busy", rate_limit_per_minute=4)
    _, quiet = make_source(name="Quiet", rate_limit_per_minute=4)
    batch = load("alertmanager_batch_mixed.json")  # three alerts

    assert post(client, f"/hooks/{busy}/", batch).status_code == 202
    assert_error(post(client, f"/hooks/{busy}/", batch), 429, "rate_limited")
    assert post(client, f"/hooks/{quiet}/", batch).status_code == 202
    assert AlertPayload.objects.filter(source__name="Busy").count() == 1


def test_a_refused_batch_does_not_count_against_the_window(client, make_source):
    """A batch that does not fit is refused whole and counts nothing: the source's single alerts
    still get the rest of the minute, however often the sender retries the batch."""
    _, token = make_source(rate_limit_per_minute=10)
    for i in range(5):
        assert (
            post(client, f"/hooks/{token}/", am_payload(am_alert(fingerprint=f"one-{i}"))).status_code == 202
        )
    batch = am_payload(*(am_alert(fingerprint=f"batch-{i}") for i in range(8)))
    for _ in range(20):  # Alertmanager retrying the refused batch
        response = post(client, f"/hooks/{token}/", batch)
        payload = assert_error(response, 429, "rate_limited")
        assert "10 alerts per minute" in payload["detail"]
        assert 1 <= int(response["Retry-After"]) <= 60

    for i in range(5, 10):
        assert (
            post(client, f"/hooks/{token}/", am_payload(am_alert(fingerprint=f"one-{i}"))).status_code == 202
        )
    assert_error(
        post(client, f"/hooks/{token}/", am_payload(am_alert(fingerprint="one-10"))), 429, "rate_limited"
    )
    assert Alert.objects.count() == 10
    assert not Alert.objects.filter(fingerprint__startswith="batch-").exists()


def test_a_batch_larger_than_the_limit_is_refused_with_the_limit(client, make_source):
    _, token = make_source(rate_limit_per_minute=10)
    batch = am_payload(*(am_alert(fingerprint=f"fp-{i}") for i in range(11)))

    payload = assert_error(post(client, f"/hooks/{token}/", batch), 413, "batch_too_large")
    assert "11 alerts in one request" in payload["detail"]
    assert "at most 10 alerts per minute" in payload["detail"]
    assert "max_alerts" in payload["detail"]
    # It took nothing from the window: ten alerts still fit this minute.
    batch = am_payload(*(am_alert(fingerprint=f"fp-{i}") for i in range(10)))
    assert post(client, f"/hooks/{token}/", batch).status_code == 202


def test_alerts_that_could_not_be_stored_do_not_count_against_the_window(client, make_source, monkeypatch):
    _, token = make_source(rate_limit_per_minute=1)

    def broken(**kwargs):
        raise DatabaseError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(alerts.views, "alerts_receive", broken)
        for _ in range(3):
            assert_error(post(client, f"/hooks/{token}/"), 503, "unavailable")

    assert post(client, f"/hooks/{token}/").status_code == 202  # the retry that finally gets through
    assert_error(post(client, f"/hooks/{token}/"), 429, "rate_limited")


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
    """Production: the counter is a Redis integer that expires, on the limiter's own connection."""
    settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    redis = ratelimit.redis_client()
    try:
        redis.ping()
    except Exception:
        pytest.skip(f"no Redis at {settings.REDIS_URL}")
    source, token = make_source(rate_limit_per_minute=4)
    keys = [
        f"alerts:rate:{source.pk}:{window}" for window in (int(time.time() // 60) - 1, int(time.time() // 60))
    ]
    redis.delete(*keys)  # Another run's source of the same id, this minute.

    assert post(client, f"/hooks/{token}/", load("alertmanager_batch_mixed.json")).status_code == 202
    assert post(client, f"/hooks/{token}/").status_code == 202
    assert_error(post(client, f"/hooks/{token}/"), 429, "rate_limited")

    # 3 + 1 accepted; the refused single is not counted.
    assert max(int(redis.get(key) or 0) for key in keys) == 4
    for key in keys:
        ttl = redis.ttl(key)
        assert ttl == -2 or 0 < ttl <= 120
    redis.delete(*keys)
    assert ratelimit.fallback_count() == 0  # All counted in Redis, none in the process.


# --- wrong tokens are throttled per client --------------------------------------------------------


CLIENTS = ("203.0.113.7", "198.51.100.2")


@pytest.fixture(params=["cache", pytest.param("redis", marks=pytest.mark.integration)])
def limiter_store(request, settings):
    """Where the limiter counts: the cache (no REDIS_URL, one machine) or Redis (production),
    cleared of this test's clients' windows before and after."""
    if request.param == "cache":
        yield
        return
    settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    redis = ratelimit.redis_client()
    try:
        redis.ping()
    except Exception:
        pytest.skip(f"no Redis at {settings.REDIS_URL}")

    def forget():
        for ip in CLIENTS:
            for key in redis.scan_iter(f"alerts:authfail:{ip}:*"):
                redis.delete(key)

    forget()
    yield
    forget()
    assert ratelimit.fallback_count() == 0  # All counted in Redis, none in the process.


def test_repeated_wrong_tokens_from_one_client_get_429(client, make_source, settings, limiter_store):
    settings.ALERT_WEBHOOK_AUTH_FAILURES_PER_MINUTE = 5
    source, token = make_source()
    attacker = {"REMOTE_ADDR": CLIENTS[0]}
    for i in range(5):
        response = client.post(f"/hooks/guess-{i}/", data="{}", content_type="application/json", **attacker)
        assert_error(response, 401, "not_authenticated")

    for key in ("guess-5", token):  # refused before any lookup, even with a valid token
        response = client.post(f"/hooks/{key}/", data="{}", content_type="application/json", **attacker)
        assert_error(response, 429, "too_many_failures")
        assert 1 <= int(response["Retry-After"]) <= 60
    response = client.post(
        f"/hooks/{source.slug}/",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer wrong",
        **attacker,
    )
    assert_error(response, 429, "too_many_failures")

    # Another client is not affected, and its good requests never count as failures.
    other = {"REMOTE_ADDR": CLIENTS[1]}
    for _ in range(10):
        response = client.post(
            f"/hooks/{token}/", data=json.dumps(SINGLE), content_type="application/json", **other
        )
        assert response.status_code == 202
    assert_error(
        client.post("/hooks/guess/", data="{}", content_type="application/json", **other),
        401,
        "not_authenticated",
    )


def test_a_throttled_client_with_a_valid_token_and_body_stores_nothing(
    client, make_source, settings, limiter_store
):
    """The check on an accepted request rides on the rate limit's round trip (webhook_admit): a
    client past its wrong tokens gets 429 there, nothing is stored and nothing counted."""
    settings.ALERT_WEBHOOK_AUTH_FAILURES_PER_MINUTE = 2
    source, token = make_source(rate_limit_per_minute=10)
    if redis := ratelimit.redis_client():  # another run's source of the same id, this minute
        redis.delete(*(f"alerts:rate:{source.pk}:{int(time.time() // 60) + d}" for d in (-1, 0, 1)))
    attacker = {"REMOTE_ADDR": CLIENTS[0]}
    body = json.dumps(SINGLE)
    for key in ("guess-1", "guess-2"):
        response = client.post(f"/hooks/{key}/", data=body, content_type="application/json", **attacker)
        assert_error(response, 401, "not_authenticated")

    response = client.post(f"/hooks/{token}/", data=body, content_type="application/json", **attacker)
    assert_error(response, 429, "too_many_failures")
    assert not Alert.objects.exists()
    # Its attempt took none of the source's window: another client posts all 10.
    for i in range(10):
        response = post(client, f"/hooks/{token}/", am_payload(am_alert(fingerprint=f"fp-{i}")))
        assert response.status_code == 202, response.content


# --- stored values are capped ---------------------------------------------------------------------


def alert_with(labels=None, annotations=None):
    alert = am_alert()
    alert["labels"].update(labels or {})
    alert["annotations"].update(annotations or {})
    return am_payload(alert)


@pytest.mark.parametrize(
    ("labels", "annotations", "named"),
    [
        ({"big": "v" * 1_000_000}, None, "alerts[0].labels.big is 1000000 characters long"),
        ({"k" * 900_000: "v"}, None, "a name of 900000 characters"),
        ({f"l{i}": "v" for i in range(60_000)}, None, "alerts[0].labels has 60003 entries"),
        (None, {"description": "d" * 20_000}, "alerts[0].annotations.description is 20000 characters"),
        (None, {f"a{i}": "v" for i in range(100)}, "alerts[0].annotations has 102 entries"),
    ],
)
def test_oversized_labels_and_annotations_are_refused_with_the_limit(
    client, make_source, labels, annotations, named
):
    _, token = make_source(max_body_bytes=5 * 1024 * 1024)
    payload = assert_error(
        post(client, f"/hooks/{token}/", alert_with(labels, annotations)), 400, "invalid_payload"
    )

    assert named in payload["detail"]
    assert "at most" in payload["detail"]
    assert not AlertPayload.objects.exists()


def test_label_limits_are_per_source(client, make_source):
    _, strict = make_source(
        name="Strict",
        max_labels=4,
        max_label_name_length=12,
        max_label_value_length=20,
        max_annotation_value_length=30,
    )
    _, default = make_source(name="Default")
    long_description = alert_with(annotations={"description": "d" * 31})

    payload = assert_error(post(client, f"/hooks/{strict}/", long_description), 400, "invalid_payload")
    assert "at most 30 (max_annotation_value_length)" in payload["detail"]
    payload = assert_error(
        post(client, f"/hooks/{strict}/", alert_with({"k": "v" * 21})), 400, "invalid_payload"
    )
    assert "at most 20 (max_label_value_length)" in payload["detail"]
    payload = assert_error(
        post(client, f"/hooks/{strict}/", alert_with({"k" * 13: "v"})), 400, "invalid_payload"
    )
    assert "at most 12 (max_label_name_length)" in payload["detail"]
    payload = assert_error(
        post(client, f"/hooks/{strict}/", alert_with({"x": "1", "y": "2"})), 400, "invalid_payload"
    )
    assert "at most 4 (max_labels)" in payload["detail"]

    assert post(client, f"/hooks/{strict}/", alert_with({"x": "1"})).status_code == 202
    assert post(client, f"/hooks/{default}/", long_description).status_code == 202


# --- the cache (Redis) down: the limiter fails open -----------------------------------------------


def test_with_the_cache_down_alerts_are_stored_and_the_limit_counted_locally(client, make_source, caplog):
    _, token = make_source(rate_limit_per_minute=3)

    with (
        # Nothing listens on port 1: connections are refused at once, as when Redis is stopped.
        override_settings(REDIS_URL="redis://127.0.0.1:1/0"),
        caplog.at_level(logging.WARNING, "alerts.ratelimit"),
    ):
        statuses = [
            post(client, f"/hooks/{token}/", am_payload(am_alert(fingerprint=f"fp-{i}"))).status_code
            for i in range(4)
        ]
        wrong = post(client, "/hooks/wrong/")

    assert statuses == [202, 202, 202, 429]
    assert_error(wrong, 401, "not_authenticated")
    assert Alert.objects.count() == 3
    # Each authenticated request's wrong-token check, then its take; the wrong token's failure counted.
    assert ratelimit.fallback_count() == 9
    warnings = [r for r in caplog.records if r.name == "alerts.ratelimit"]
    assert len(warnings) == 1  # once a minute, not once a request
    assert "the cache is unreachable (ConnectionError" in warnings[0].getMessage()
