"""Where the demo's alert source tokens are filed: `VAR_DIR/demo-alert-token`, so `send_test_alert`
can post without one being pasted. Sources store only a hash of their token, so this file is the
only place the demo's token survives `seed_demo` (which writes it: demo/tokens.py).

The file is JSON, `{"<database name>": {"<source slug>": "<token>"}}`, readable by its owner only.
Tokens are filed under the database they belong to, so a test run's database (which seeds its own
demo) never replaces the token of the one `make run` uses."""

import json
from pathlib import Path

from django.conf import settings
from django.db import connections

FILE_NAME = "demo-alert-token"


def demo_token_path() -> Path:
    return Path(settings.VAR_DIR) / FILE_NAME


def database_key(using: str = "default") -> str:
    return str(connections[using].settings_dict["NAME"])


def token_file_read(path: Path) -> dict:
    """The whole file; empty when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def demo_tokens_read(using: str = "default") -> dict[str, str]:
    """This database's `{slug: token}`; empty when the file is missing or unreadable."""
    tokens = token_file_read(demo_token_path()).get(database_key(using))
    if not isinstance(tokens, dict):
        return {}
    return {slug: token for slug, token in tokens.items() if isinstance(token, str)}
