"""The public pages (server-rendered, no JavaScript, nothing loaded from elsewhere). Every view goes
through public_page: cached whole by page version, behind the login in private mode. No page here
carries a form (a CSRF token in a cached page would be served to every reader)."""

import hashlib
from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from statuspage import selectors
from statuspage.branding import Branding
from statuspage.views.public import public_page

HISTORY_MONTHS_PER_PAGE = 3
# Served as themselves; anything else stored as a logo is not served (a text/html "logo" would be a
# page on our origin).
LOGO_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"}
# An SVG can carry script: opened on its own it runs in a sandbox with nothing allowed.
SVG_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
YEAR = 365 * 24 * 3600


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    return TemplateResponse(request, template, context).render()


@public_page
def index(request: HttpRequest, page: Branding) -> HttpResponse:
    overview = selectors.page_overview(days=page.history_days, time_zone=page.time_zone)
    return _render(
        request,
        "statuspage/index.html",
        {"page": page, "overview": overview, "history_days": page.history_days},
    )


@public_page
def incident(request: HttpRequest, page: Branding, pk: int) -> HttpResponse:
    public = selectors.public_incident_detail(pk=pk)
    if public is None:
        raise Http404("No such incident.")
    return _render(request, "statuspage/incident.html", {"page": page, "incident": public})


@public_page
def history(request: HttpRequest, page: Branding) -> HttpResponse:
    raw = request.GET.get("page", "1")
    number = int(raw) if raw.isdigit() and len(raw) < 6 else 0
    found = selectors.history_page(
        number=number, time_zone=page.time_zone, months_per_page=HISTORY_MONTHS_PER_PAGE
    )
    if found is None:
        raise Http404("No such page of the history.")
    return _render(request, "statuspage/history.html", {"page": page, "history": found})


def _logo_headers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Headers the whole-response cache does not keep: they are set on every answer, cached or not."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        response["X-Content-Type-Options"] = "nosniff"
        if response["Content-Type"] == "image/svg+xml":
            response["Content-Security-Policy"] = SVG_POLICY
        if "private" not in response.get("Cache-Control", ""):
            # The URL carries the logo's digest: a new logo is a new URL, so this one never changes.
            response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response

    return wrapped


@_logo_headers
@public_page
def logo(request: HttpRequest, page: Branding, digest: str) -> HttpResponse:
    content, content_type = selectors.page_logo()
    if not content or content_type not in LOGO_TYPES:
        raise Http404("No logo.")
    if hashlib.sha256(content).hexdigest()[:16] != digest:
        raise Http404("Not the current logo.")
    return HttpResponse(content, content_type=content_type)
