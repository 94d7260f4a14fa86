"""GET /metrics: Prometheus' text format. Plain Django, outside the API (and its schema), like the
webhook: Prometheus sends a bearer token, not an API token."""

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from observability.access import scrape_refusal
from observability.exposition import CONTENT_TYPE, exposition

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = scrape_refusal(request)
    if refusal is not None:
        response = JsonResponse({"detail": refusal.detail, "code": refusal.code}, status=refusal.status)
        if refusal.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    try:
        body = exposition()
    except DatabaseError:
        # Prometheus records the failed scrape (up == 0): the database is what most rules need.
        logger.exception("/metrics: the database is unavailable")
        return JsonResponse({"detail": "The database is unavailable.", "code": "unavailable"}, status=503)
    return HttpResponse(body, content_type=CONTENT_TYPE)
