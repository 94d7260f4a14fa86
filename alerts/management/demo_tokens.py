"""The demo's alert source tokens, kept in `VAR_DIR/demo-alert-token` so `send_test_alert` can post
without one being pasted. Sources store only a hash of their token, so this file is the only place
the demo's token survives `seed_demo`.

The file is JSON, `{"<database name>": {"<source slug>": "<token>"}}`, readable by its owner only.
Tokens are filed under the database they belong to, so a test run's database (which seeds its own
demo) never replaces the token of the one `make run` uses."""

import json
import os
from pathlib import Path

from django.conf import settings
from django.db import connections

FILE_NAME = "demo-alert-token"


def demo_token_path() -> Path:
    return Path(settings.VAR_DIR) / FILE_NAME


def _database_key(using: str = "default") -> str:
    return str(connections[using].settings_dict["NAME"])


def _read_all(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def demo_tokens_read(using: str = "default") -> dict[str, str]:
    """This database's `{slug: token}`; empty when the file is missing or unreadable."""
    tokens = _read_all(demo_token_path()).get(_database_key(using))
    if not isinstance(tokens, dict):
        return {}
    return {slug: token for slug, token in tokens.items() if isinstance(token, str)}


def demo_token_write(slug: str, token: str, using: str = "default") -> Path:
    """File `token` for `slug` under this database (mode 0600, replaced atomically)."""
    path = demo_token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _read_all(path)
    key = _database_key(using)
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
