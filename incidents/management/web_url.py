"""Where `make run`'s web server answers. While the Procfile's `banner` process (demo's
demo_banner) runs it keeps the web server's address in `VAR_DIR/web-url`, so a command started
from another terminal (send_test_alert) reaches the server on whatever PORT `make run` was given."""

from pathlib import Path

from django.conf import settings

WEB_URL_FILE = "web-url"
DEFAULT_WEB_URL = "http://127.0.0.1:8000"


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
