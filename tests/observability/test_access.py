"""Who may read /metrics: never everyone by default; a bearer token or an allowed network; odd
methods and headers get a 4xx, never a 500."""

import ipaddress
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from tests.hostile import HOSTILE
from tests.observability.support import TOKEN, scrape

pytestmark = pytest.mark.django_db


def nets(*cidrs):
    return [ipaddress.ip_network(cidr) for cidr in cidrs]


def assert_refused(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert b"mitigate_" not in response.content


def test_with_neither_token_nor_networks_nobody_may_scrape(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics")
    assert_refused(response, 403, "metrics_not_configured")
    assert "METRICS_TOKEN" in response.json()["detail"]
    # Not even with a token: there is none to match.
    assert_refused(
        client.get("/metrics", headers={"Authorization": "Bearer "}), 403, "metrics_not_configured"
    )


def test_the_right_token_scrapes(client):
    response = scrape(client)
    assert response.status_code == 200
    assert b"# TYPE mitigate_incidents_open gauge" in response.content
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        f"Token {TOKEN}",
        TOKEN,
        "Bearer é\u00ff",
        "Bearer " + "a" * 10_000,
        "Bearer \u202e" + TOKEN,
    ],
)
def test_a_missing_or_wrong_token_is_401(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert_refused(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_scheme_is_case_insensitive_and_spaces_around_the_token_do_not_matter(client):
    assert client.get("/metrics", headers={"Authorization": f"bearer  {TOKEN} "}).status_code == 200


def test_an_allowed_network_scrapes_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = nets("127.0.0.0/8")
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 403
    settings.METRICS_ALLOWED_NETWORKS = nets("10.0.0.0/8", "::1/128")
    assert_refused(client.get("/metrics"), 403, "network_not_allowed")
    assert client.get("/metrics", REMOTE_ADDR="10.2.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_a_forwarded_for_header_does_not_let_a_direct_client_in(client, settings):
    """With NUM_PROXIES 0 (the default) the client's own address counts, whatever it claims."""
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = nets("10.0.0.0/8")
    response = client.get("/metrics", headers={"X-Forwarded-For": "10.0.0.1"}, REMOTE_ADDR="192.0.2.7")
    assert_refused(response, 403, "network_not_allowed")


def test_token_or_network_either_one_is_enough(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = nets("10.0.0.0/8")
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.9").status_code == 200
    assert scrape(client, REMOTE_ADDR="192.0.2.7").status_code == 200
    assert_refused(client.get("/metrics", REMOTE_ADDR="192.0.2.7"), 401, "not_authenticated")


@pytest.mark.parametrize("remote_addr", ["", "not-an-address", "999.1.1.1", "127.0.0.1%eth0"])
def test_an_odd_client_address_is_refused_not_a_500(client, settings, remote_addr):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = nets("0.0.0.0/0")
    assert client.get("/metrics", REMOTE_ADDR=remote_addr).status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "trace"])
def test_other_methods_are_405(client, method):
    response = getattr(client, method)("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_head_with_the_token_is_200_without_a_body(client):
    response = client.head("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content == b""


def test_odd_headers_do_not_matter(client):
    response = scrape(
        client, Accept="application/openmetrics-text; version=1.0.0", Accept_Encoding="gzip, br"
    )
    assert response.status_code == 200
    response = client.get("/metrics/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code in (301, 404)


def test_a_bad_network_setting_stops_the_start_with_its_reason():
    env = {**os.environ, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,not-a-network"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS" in result.stderr
    assert "not-a-network" in result.stderr


def test_the_token_is_never_logged(client, caplog):
    caplog.set_level("DEBUG")
    client.get("/metrics", headers={"Authorization": "Bearer wrong-guess"})
    scrape(client)
    assert TOKEN not in caplog.text
    assert "wrong-guess" not in caplog.text


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_hostile_corpus_as_a_token_or_an_address_is_refused_not_a_500(client, settings, name):
    hostile = HOSTILE[name]
    # What a WSGI server could hand over: header values are Latin-1, NUL and newlines included.
    raw = hostile.encode("utf-8", "replace").decode("latin-1")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_refused(response, 401, "not_authenticated")
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = nets("10.0.0.0/8")
    response = client.get("/metrics", REMOTE_ADDR=raw)
    assert_refused(response, 403, "network_not_allowed")
