"""GET /metrics: Prometheus' text format. Plain Django, outside the API (and its schema), like the
webhook: Prometheus sends a bearer token, not an API token."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from observability.access import scrape_refusal
from observability.exposition import CONTENT_TYPE, exposition


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = scrape_refusal(request)
    if refusal is not None:
        response = JsonResponse({"detail": refusal.detail, "code": refusal.code}, status=refusal.status)
        if refusal.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE)
