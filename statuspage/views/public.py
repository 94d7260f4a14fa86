"""What every public status page URL shares: GET/HEAD only, the private mode's login, and the
whole-response cache keyed by the page's version (statuspage.cache), so a page or JSON document is
built once per change, not once per reader. Large answers are cached gzipped (once, when built) and
sent so to the readers that accept it, as every browser does: the index with 90-day bars for 50
components is ~300 kB of HTML and ~30 kB gzipped, which is what lets a cached page keep up with the
trivial view (bench/statuspage.py)."""

import gzip
import hashlib
import logging
import re
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.cache import patch_cache_control, patch_vary_headers

from statuspage.branding import Branding, branding
from statuspage.cache import VERSION_KEY, page_version

logger = logging.getLogger(__name__)
CACHE_SECONDS = 300  # A safety net: a change moves the version on at once anyway.
BROWSER_SECONDS = 30  # Readers and proxies may keep a copy this long.

COMPRESS_FROM = 1024  # bytes; below, gzip saves less than it costs
ACCEPTS_GZIP = re.compile(r"\bgzip\b")

PublicView = Callable[..., HttpResponse]


def _squeeze(content: bytes, content_type: str) -> tuple[bytes, str]:
    """What the cache keeps: the body, gzipped when it is text large enough to be worth it (images
    are compressed already), and its encoding."""
    textual = content_type.startswith("text/") or "json" in content_type or "xml" in content_type
    if len(content) < COMPRESS_FROM or not textual:
        return content, ""
    return gzip.compress(content, compresslevel=6, mtime=0), "gzip"


def may_read(request: HttpRequest, page: Branding) -> bool:
    return not page.private or (request.user.is_authenticated and request.user.is_staff)


def public_page(view: PublicView) -> PublicView:
    """Wrap a view `view(request, page: Branding, *args, **kwargs)`. Its 200 answers are cached whole
    (body, content type, encoding, the page's settings) for the full path and the page version; other
    answers are not cached. Headers the view sets are on its first answer only."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        # The path and the one parameter a public view reads (the history's ?page=): any other query
        # string makes no entry of its own, so nobody fills the cache with ?x=<random>.
        wanted = request.path + (f"?page={request.GET['page']}" if "page" in request.GET else "")
        path = hashlib.sha256(wanted.encode()).hexdigest()[:32]
        # One entry per URL, (version, body, content type, encoding, the page's settings), read
        # with the version in one round trip: a cached page costs one cache read. An entry of an
        # older version is rebuilt and replaced. ("v2": older entries are never read.)
        key = f"statuspage:response:v2:{path}"
        try:
            found = cache.get_many([VERSION_KEY, key])
        except Exception:
            found = {}
        version = found.get(VERSION_KEY) or page_version()
        entry = found.get(key)
        cached = entry[1:] if entry is not None and entry[0] == version else None
        page = cached[3] if cached is not None else branding(version)
        if not may_read(request, page):
            return redirect_to_login(request.get_full_path())
        gzip_ok = bool(ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")))
        if cached is not None:
            body, content_type, encoding, _ = cached
            if encoding and not gzip_ok:
                body, encoding = gzip.decompress(body), ""
            response = HttpResponse(body, content_type=content_type)
            if encoding:
                response["Content-Encoding"] = encoding
        else:
            response = view(request, page, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                body, encoding = _squeeze(response.content, response["Content-Type"])
                try:
                    cache.set(
                        key, (version, body, response["Content-Type"], encoding, page), timeout=CACHE_SECONDS
                    )
                except Exception:
                    logger.warning("Status page cache unreachable; not caching.", exc_info=True)
                if encoding and gzip_ok:
                    response.content = body
                    response["Content-Encoding"] = encoding
        patch_vary_headers(response, ["Accept-Encoding"])
        if page.private:
            patch_cache_control(response, private=True, no_store=True)
        else:
            patch_cache_control(response, public=True, max_age=BROWSER_SECONDS)
        return response

    return wrapped
