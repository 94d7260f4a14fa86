"""`make run` on a port of one's choosing, with a quiet console: links in emails and send_test_alert
follow the web server's port, emails go to files rather than the worker's console, and the banner
process prints the logins only once the web server answers and the worker is ready.

Processes here are real (manage.py, a Celery worker) and run on a VAR_DIR of their own, on SQLite
and the filesystem broker, so they never touch this run's database or a running `make run`."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from alerts.models import Alert
from alerts.services import alert_source_create
from common.actor import Actor
from demo.tokens import demo_token_write

ROOT = Path(__file__).resolve().parents[2]
BANNER = "=" * 72 + "\nMitigate demo\n  Admin:     http://127.0.0.1:9/admin/\n" + "=" * 72 + "\n"


def environment(var_dir: Path, **extra: str) -> dict[str, str]:
    """A process environment on the embedded default in var_dir, with no port or site configured."""
    drop = {"DATABASE_URL", "REDIS_URL", "PORT", "MITIGATE_WEB_PORT", "SITE_URL", "EMAIL_URL"}
    env = {name: value for name, value in os.environ.items() if name not in drop}
    env.update(VAR_DIR=str(var_dir), **extra)
    return env


def django(code: str, var_dir: Path, **extra: str) -> subprocess.CompletedProcess:
    """Run Python code in a fresh Django process (settings read from that environment)."""
    setup = (
        "import django, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "django.setup()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", setup + code],
        cwd=ROOT,
        env=environment(var_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("extra", "site_url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "9000"}, "http://127.0.0.1:9000"),
        # Under honcho the worker's PORT is the web's + 100; the Makefile passes the web's.
        ({"PORT": "9100", "MITIGATE_WEB_PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"PORT": "9000", "SITE_URL": "https://mitigate.example.com/"}, "https://mitigate.example.com"),
    ],
)
def test_links_in_emails_follow_the_web_servers_port(tmp_path, extra, site_url):
    result = django("from django.conf import settings; print(settings.SITE_URL)", tmp_path, **extra)
    assert result.stdout.strip() == site_url, result.stderr


def test_without_email_url_emails_are_files_not_console_output(tmp_path):
    result = django(
        "from django.core.mail import send_mail\n"
        "send_mail('Post-mortem published: INC-1', 'The whole post-mortem ' * 50, None, ['a@example.com'])\n",
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "Post-mortem" not in result.stderr
    [written] = (tmp_path / "mail").iterdir()
    assert "Subject: Post-mortem published: INC-1" in written.read_text()


def start(command: list[str], var_dir: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment(var_dir, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.stdout.read()


def wait_for(path: Path, seconds: float = 60) -> str:
    until = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < until, f"{path} did not appear"
        time.sleep(0.1)
    return path.read_text()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_banner_comes_after_web_and_worker_and_send_test_alert_finds_the_port(
    live_server, settings, tmp_path
):
    """The banner process waits for the web server (here the live server, on a port that is not
    8000) and for a real worker; while it runs, send_test_alert in another terminal, told no port,
    posts to that web server."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "demo-banner.txt").write_text(BANNER)
    # An earlier run's worker said it was ready an hour ago: that is not this run's worker.
    stale = var_dir / "worker-ready"
    stale.touch()
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    port = live_server.url.rsplit(":", 1)[1]
    web = f"http://127.0.0.1:{port}"
    banner = start([sys.executable, "manage.py", "demo_banner"], var_dir, MITIGATE_WEB_PORT=port)
    worker = None
    try:
        # The web server answers, but no worker is ready: nothing printed, nothing recorded.
        time.sleep(6)
        assert banner.poll() is None
        assert not (var_dir / "web-url").exists()

        worker = start(
            [sys.executable, "-m", "celery", "-A", "config", "--quiet", "worker", "--pool", "solo"],
            var_dir,
        )
        assert wait_for(var_dir / "web-url").strip() == web
        assert (var_dir / "worker-ready").stat().st_mtime > time.time() - 120

        # Another terminal: no PORT, no --url, the same var/.
        source, token = alert_source_create(
            by=Actor.system(), name="Prometheus", slug="prometheus", kind="alertmanager"
        )
        settings.VAR_DIR = var_dir
        demo_token_write("prometheus", token)
        out = StringIO()
        call_command("send_test_alert", "--source", "prometheus", "--no-wait", stdout=out)
        assert f"to {web}/hooks/prometheus/" in out.getvalue()
        assert "HTTP 202" in out.getvalue()
        assert Alert.objects.filter(source=source).count() == 1
    finally:
        output = stop(banner)
        if worker is not None:
            stop(worker)

    assert banner.returncode == 0, output
    assert BANNER.strip() in output
    # Stopped: the address is no longer claimed.
    assert not (var_dir / "web-url").exists()
