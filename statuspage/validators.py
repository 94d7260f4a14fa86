import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate_colour(value: str) -> None:
    if not COLOUR.match(value or ""):
        raise ValidationError("Give a colour as #rrggbb, e.g. #175cd3.")


def validate_http_url(value: str) -> None:
    """An http(s) URL with a host; anything else (javascript:, data:) would be a link hazard on a
    public page."""
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValidationError("Give an http:// or https:// address.")
