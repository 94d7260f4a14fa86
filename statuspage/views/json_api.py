"""The Statuspage-compatible JSON API under /status/api/v2/ (statuspage.public_json builds the
documents). Cached and guarded by `public_page` like every public URL."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse

from statuspage import public_json
from statuspage.branding import Branding
from statuspage.views.public import PublicView, public_page


def readable_elsewhere(view: PublicView) -> PublicView:
    """Widgets on other sites read these documents from the browser, so a public page allows any
    origin. A private page never does: its readers' session cookie must not be usable by another
    site's script. Added outside the cache, which keeps only body and content type."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        # public_page marks a private page's answers private: no cache read needed to tell.
        if response.status_code == 200 and "private" not in response.get("Cache-Control", ""):
            response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapped


def json_view(build: Callable[..., dict], **options) -> PublicView:
    @readable_elsewhere
    @public_page
    def view(request: HttpRequest, page: Branding) -> HttpResponse:
        document = build(page, public_json.site_absolute, **options)
        return JsonResponse(document, json_dumps_params={"ensure_ascii": False})

    return view


summary = json_view(public_json.summary_document)
status = json_view(public_json.status_document)
components = json_view(public_json.components_document)
incidents = json_view(public_json.incidents_document)
incidents_unresolved = json_view(public_json.incidents_document, unresolved=True)
maintenances = json_view(public_json.maintenances_document)
maintenances_upcoming = json_view(public_json.maintenances_document, which="upcoming")
maintenances_active = json_view(public_json.maintenances_document, which="active")
