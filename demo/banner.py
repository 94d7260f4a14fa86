"""`make run`'s banner. seed_demo files it (logins, token, links) in `VAR_DIR/demo-banner.txt`; the
Procfile's `banner` process (manage.py demo_banner) prints it once the web server answers, so it is
the last thing on the console rather than buried under the other processes' start-up output."""

import os
from pathlib import Path

from django.conf import settings

BANNER_FILE = "demo-banner.txt"


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
