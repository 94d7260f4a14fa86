"""The README's production settings, for real: `check --deploy` is clean with them, and gunicorn
with DEBUG off serves the admin's static files (WhiteNoise, after `collectstatic`) with HSTS and
the Content-Security-Policy on its pages."""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.integration

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
GUNICORN = Path(sys.executable).with_name("gunicorn")
HOST = "mitigate.example.com"


def production_env(tmp_path: Path) -> dict[str, str]:
    """The variables README.md's Configuration section lists for production (the database and
    Redis left out: nothing here needs them), with everything else under tmp_path."""
    # The metrics folder too: gunicorn empties its own at start (gunicorn.conf.py), not this run's.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        SECURE_SSL_REDIRECT="true",
        TRUST_X_FORWARDED_PROTO="true",
        NUM_PROXIES="1",
        VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_check_deploy_is_clean_with_the_documented_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_still_warns_without_them(tmp_path):
    """The check is not silenced wholesale: leaving out HTTPS redirection is reported."""
    env = production_env(tmp_path)
    del env["SECURE_SSL_REDIRECT"]
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, *, https: bool = True) -> tuple[int, dict[str, str], bytes]:
    """GET as the TLS proxy in front of gunicorn would pass it on (X-Forwarded-Proto), or as plain HTTP."""
    headers = {"Host": HOST, **({"X-Forwarded-Proto": "https"} if https else {})}
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    if not GUNICORN.exists():
        pytest.skip(f"needs gunicorn at {GUNICORN} (requirements.txt)")
    env = production_env(tmp_path_factory.mktemp("production"))
    collected = manage(env, "collectstatic", "--no-input")
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "config.wsgi",
            "-k",
            "gthread",
            "--workers",
            "1",
            "--threads",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(base + "/healthz", https=False)[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 60 s"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_gunicorn_serves_the_admins_static_files_with_debug_off(gunicorn):
    status, headers, body = fetch(gunicorn + "/static/admin/css/base.css")
    assert status == 200, body[:200]
    assert headers["Content-Type"].startswith("text/css")

    status, headers, page = fetch(gunicorn + "/admin/login/")
    assert status == 200
    # Pages link the hashed copies, which browsers may cache for good.
    css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page).group(1).decode()
    status, headers, _ = fetch(gunicorn + css)
    assert status == 200
    assert "immutable" in headers["Cache-Control"]
    # The login page's own script (and Swagger UI's) is there too.
    assert fetch(gunicorn + "/static/common/confirm.js")[0] == 200
    assert fetch(gunicorn + "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")[0] == 200


def test_https_pages_carry_hsts_and_the_csp_and_plain_http_is_redirected(gunicorn):
    status, headers, _ = fetch(gunicorn + "/admin/login/")
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert headers["X-Frame-Options"] == "DENY"

    status, headers, _ = fetch(gunicorn + "/admin/login/", https=False)
    assert status == 301 and headers["Location"] == f"https://{HOST}/admin/login/"
    # Load balancers probe over plain HTTP.
    assert fetch(gunicorn + "/healthz", https=False)[0] == 200
