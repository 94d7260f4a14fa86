"""Plain Django views shared by the whole site."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and orchestrators: the process answers requests. It touches
    neither the database nor the cache, so a slow dependency does not get healthy workers killed."""
    return JsonResponse({"ok": True})
