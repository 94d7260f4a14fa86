"""Log filters. Some URLs carry a secret: an alert source's token is the last part of its webhook
path, and a few integrations put a token in the query string. Django logs the path of every 4xx and
5xx answer (`django.request`) and runserver logs every request line (`django.server`), so without
this filter each refused webhook request writes the token to the log.

`RedactSecrets` is attached to those loggers in settings.LOGGING, so it rewrites a record before any
handler (or a test's log capture) sees it. It keeps the first characters of a secret, as the admin
shows a source's token prefix, so a log line can still be matched to its source."""

import logging
import re
from collections.abc import Iterable
from typing import Any

# As many characters as AlertSource.token_prefix keeps, so a redacted key reads like the admin's hint.
KEPT = 8
# Query string parameters whose value is a secret wherever they appear.
SECRET_PARAMETERS = r"token|access_token|api_key|key|secret|password|signature|sig"


def redact_key(secret: str) -> str:
    """A secret as it may appear in a log: its first characters and an ellipsis."""
    return f"{secret[:KEPT]}…"


class RedactSecrets(logging.Filter):
    """Rewrites, in a record's message and its string arguments, the `secret` group of each pattern
    (regular expressions over paths, e.g. `/hooks/(?P<secret>[^/?#\\s"]+)`) and the values of secret
    query parameters. Always lets the record through."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        super().__init__()
        self.patterns = [re.compile(pattern) for pattern in paths]
        self.patterns.append(
            re.compile(rf"[?&](?:{SECRET_PARAMETERS})=(?P<secret>[^&#\s\"']+)", re.IGNORECASE)
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: self._redact_value(value) for name, value in record.args.items()}
        return True

    def redact(self, text: str) -> str:
        for pattern in self.patterns:
            text = pattern.sub(self._replace, text)
        return text

    def _redact_value(self, value: Any) -> Any:
        return self.redact(value) if isinstance(value, str) else value

    @staticmethod
    def _replace(match: re.Match) -> str:
        start, end = match.span("secret")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + redact_key(match.group("secret")) + whole[end - offset :]
