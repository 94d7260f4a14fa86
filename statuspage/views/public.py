"""What every public status page URL shares: GET/HEAD only, the private mode's login, and the
whole-response cache keyed by the page's version (statuspage.cache), so a page or JSON document is
built once per change, not once per reader."""

import hashlib
import logging
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.cache import patch_cache_control

from statuspage.branding import Branding, branding
from statuspage.cache import page_version

logger = logging.getLogger(__name__)
CACHE_SECONDS = 300  # A safety net: a change moves the version on at once anyway.
BROWSER_SECONDS = 30  # Readers and proxies may keep a copy this long.

PublicView = Callable[..., HttpResponse]


def may_read(request: HttpRequest, page: Branding) -> bool:
    return not page.private or (request.user.is_authenticated and request.user.is_staff)


def public_page(view: PublicView) -> PublicView:
    """Wrap a view `view(request, page: Branding, *args, **kwargs)`. Its 200 answers are cached whole
    (body, content type) under the page version and the full path; other answers are not cached."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        version = page_version()
        page = branding(version)
        if not may_read(request, page):
            return redirect_to_login(request.get_full_path())
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
        key = f"statuspage:response:{version}:{path}"
        try:
            cached = cache.get(key)
        except Exception:
            cached = None
        if cached is not None:
            response = HttpResponse(cached[0], content_type=cached[1])
        else:
            response = view(request, page, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                try:
                    cache.set(key, (response.content, response["Content-Type"]), timeout=CACHE_SECONDS)
                except Exception:
                    logger.warning("Status page cache unreachable; not caching.", exc_info=True)
        if page.private:
            patch_cache_control(response, private=True, no_store=True)
        else:
            patch_cache_control(response, public=True, max_age=BROWSER_SECONDS)
        return response

    return wrapped
