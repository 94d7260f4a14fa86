"""`make run`'s banner and the address of its web server.

seed_demo files the demo banner (logins, token, links) in `VAR_DIR/demo-banner.txt`; the Procfile's
`banner` process (manage.py demo_banner) prints it once the web server answers, so it is the last
thing on the console rather than buried under the other processes' start-up output. While that
process runs it keeps the web server's address in `VAR_DIR/web-url`, so a command started from
another terminal (send_test_alert) reaches the server on whatever PORT `make run` was given."""

import os
from pathlib import Path

from django.conf import settings

BANNER_FILE = "demo-banner.txt"
WEB_URL_FILE = "web-url"
DEFAULT_WEB_URL = "http://127.0.0.1:8000"


def banner_path() -> Path:
    return Path(settings.VAR_DIR) / BANNER_FILE


def banner_write(text: str) -> Path:
    """File the banner, readable by its owner only: it holds the demo's passwords."""
    path = banner_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # In case a crashed run left the temporary file behind.
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)
    return path


def banner_read() -> str | None:
    try:
        return banner_path().read_text()
    except OSError:
        return None


def local_web_url() -> str:
    """Where `make run`'s web server listens (settings.WEB_PORT on the loopback address)."""
    return f"http://127.0.0.1:{settings.WEB_PORT}"


def web_url_path() -> Path:
    return Path(settings.VAR_DIR) / WEB_URL_FILE


def running_web_url() -> str | None:
    """The address `make run`'s web server answers at, while `make run` runs; else None."""
    try:
        url = web_url_path().read_text().strip()
    except OSError:
        return None
    return url or None


def running_web_url_record(url: str) -> None:
    web_url_path().write_text(f"{url}\n")


def running_web_url_clear() -> None:
    web_url_path().unlink(missing_ok=True)
