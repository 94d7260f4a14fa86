"""seed_demo files the demo's alert source tokens for `send_test_alert`; the file's place and
format, and its reader, live with send_test_alert in alerts/management/demo_token_file.py."""

import json
import os
from pathlib import Path

from alerts.management.demo_token_file import database_key, demo_token_path, token_file_read


def demo_token_write(slug: str, token: str, using: str = "default") -> Path:
    """File `token` for `slug` under this database (mode 0600, replaced atomically)."""
    path = demo_token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = token_file_read(path)
    key = database_key(using)
    tokens = data.get(key) if isinstance(data.get(key), dict) else {}
    data[key] = {**tokens, slug: token}
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # In case a crashed run left the temporary file behind.
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, path)
    return path
