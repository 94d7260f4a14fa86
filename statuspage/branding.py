"""The page's settings as every public view reads them: from the cache under the page's version
(statuspage.cache), so a page served from the cache costs no query for them."""

import contextlib
import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.urls import reverse

from statuspage.cache import page_version
from statuspage.models import PageSettings


@dataclass(frozen=True)
class Branding:
    name: str
    accent_colour: str
    support_url: str
    time_zone: str
    private: bool
    history_days: int
    logo_url: str  # "" without a logo; else our own URL, with a digest so a new logo is a new URL.


def page_settings() -> PageSettings:
    return PageSettings.objects.get_or_create(pk=1)[0]


def branding(version: str | None = None) -> Branding:
    version = version or page_version()
    key = f"statuspage:branding:{version}"
    try:
        found = cache.get(key)
    except Exception:
        found = None
    if found is not None:
        return found
    row = page_settings()
    logo = bytes(row.logo or b"")
    logo_url = ""
    if logo:
        digest = hashlib.sha256(logo).hexdigest()[:16]
        logo_url = reverse("statuspage:logo", args=[digest])
    found = Branding(
        name=row.name,
        accent_colour=row.accent_colour,
        support_url=row.support_url,
        time_zone=row.time_zone,
        private=row.private,
        history_days=row.history_days,
        logo_url=logo_url,
    )
    with contextlib.suppress(Exception):  # An unreachable cache costs a query per request, no more.
        cache.set(key, found, timeout=3600)
    return found
