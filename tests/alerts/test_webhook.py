"""POST /hooks/<token>/ and /hooks/<slug>/ with a bearer token: every answer, through the real
URL configuration and middleware. The limits (size, rates, caps) are in test_webhook_limits.py."""

import hashlib
import hmac
import io
import json
import logging
import threading

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import DatabaseError, connection
from django.test import Client, RequestFactory

import alerts.views
from alerts.models import Alert, AlertPayload, AlertSource
from alerts.selectors import _kept_sources
from alerts.services import alert_source_rotate_token
from common.actor import Actor
from tests.alerts.conftest import load
from tests.alerts.support import SINGLE, am_alert, am_payload, assert_error, post
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.django_db


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


# --- 503 ------------------------------------------------------------------------------------------


def test_storage_failure_is_503_so_the_sender_retries(client, make_source, monkeypatch):
    _, token = make_source()

    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(alerts.views, "alerts_receive", broken)
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


# --- secrets in logs ------------------------------------------------------------------------------


def test_refused_requests_never_log_the_token(client, make_source, caplog):
    """Django logs the path of every 4xx answer; the token in it is cut to the admin's prefix."""
    source, token = make_source(rate_limit_per_minute=1, max_body_bytes=2000)
    url = f"/hooks/{token}/"
    with caplog.at_level(logging.DEBUG):
        assert post(client, url).status_code == 202
        assert_error(post(client, url), 429, "rate_limited")
        assert_error(post(client, url, body="{not json"), 400, "invalid_payload")
        assert_error(post(client, url, body=json.dumps(dict(SINGLE, pad="x" * 3000))), 413, "too_large")
        assert_error(post(client, f"/hooks/{token}x/?token={token}"), 401, "not_authenticated")

    assert token not in caplog.text
    assert token[:7] not in caplog.text.replace(f"{source.token_prefix}…", "")
    assert caplog.text.count(f"/hooks/{source.token_prefix}…/") == 4


def test_the_development_server_log_is_redacted_too(make_source):
    """runserver logs every request line on `django.server`, which does not propagate."""
    _, token = make_source()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    server_log = logging.getLogger("django.server")
    server_log.addHandler(handler)
    try:
        # As django.core.servers.basehttp.WSGIRequestHandler.log_message calls it.
        server_log.info('"%s" %s %s', f"POST /hooks/{token}/ HTTP/1.1", "202", "31")
        server_log.info('"%s" %s %s', f"GET /status/?page=2&token={token} HTTP/1.1", "404", "10")
    finally:
        server_log.removeHandler(handler)

    assert [record.getMessage() for record in records] == [
        f'"POST /hooks/{token[:8]}…/ HTTP/1.1" 202 31',
        f'"GET /status/?page=2&token={token[:8]}… HTTP/1.1" 404 10',
    ]


# --- the database down: JSON 503, never an HTML 500 -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_database_unreachable_is_json_503_with_retry_after(make_source):
    """The source lookup is the first query: with the database gone it fails, and the answer is
    still JSON that Alertmanager retries."""
    _, token = make_source()
    saved = dict(connection.settings_dict)
    connection.close()
    if ON_POSTGRES:
        connection.settings_dict["PORT"] = "1"
    else:
        connection.settings_dict["NAME"] = "/nonexistent/mitigate.sqlite3"
    try:
        response = Client(raise_request_exception=False).post(
            f"/hooks/{token}/", data=json.dumps(SINGLE), content_type="application/json"
        )
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    assert response["Content-Type"] == "application/json"
    assert_error(response, 503, "unavailable")
    assert response["Retry-After"] == "5"
    assert not Alert.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kept", [True, False], ids=["source kept: the upsert first", "source looked up"])
def test_a_dropped_database_connection_is_replaced_before_the_request(make_source, kept):
    """The server ended the web process's persistent connection (restart, failover): the next
    request's first statement (the source lookup, or with the source kept the upsert) fails, and
    runs again on a new connection, instead of the request failing."""
    _, token = make_source()
    handler = WSGIHandler()
    assert _wsgi_post(handler, f"/hooks/{token}/")[0] == "202 Accepted"
    assert connection.connection is not None  # kept open for the next request (CONN_MAX_AGE)
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**_psycopg_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    if not kept:
        _kept_sources.clear()

    status, body = _wsgi_post(handler, f"/hooks/{token}/", fingerprint="after-drop")
    assert status == "202 Accepted", body
    assert Alert.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_source_lookup_stands_in_for_the_health_check(make_source, monkeypatch):
    """No `SELECT 1` round trip before the webhook's first statement on a kept connection: that
    statement (here the upsert, the source being kept) is the check (common.db_health); the test
    above shows a dropped connection is still replaced."""
    _, token = make_source()
    handler = WSGIHandler()
    assert _wsgi_post(handler, f"/hooks/{token}/")[0] == "202 Accepted"
    checks = []
    usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or usable())

    assert _wsgi_post(handler, f"/hooks/{token}/", fingerprint="second")[0] == "202 Accepted"
    assert checks == []
    assert Alert.objects.count() == 2


def _wsgi_post(handler, path, fingerprint="fp-1"):
    """One request through Django's WSGI handler, as a server sends it: with request_started, which
    checks persistent connections (the test client skips that)."""
    body = json.dumps(am_payload(am_alert(fingerprint=fingerprint))).encode()
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": io.BytesIO(body)},
    )
    answer = {}
    chunks = handler(environ, lambda status, headers: answer.update(status=status))
    return answer["status"], b"".join(chunks)


def _psycopg_params():
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k in {"dbname", "user", "password", "host", "port"}}
