"""Pieces every app's API views share: body parsers, input validation and error responses."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Request
from rest_framework.serializers import Serializer

from common.api.serializers import ErrorSerializer

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="Invalid input: detail, code and field errors.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Not allowed for this user.")
WRITE_ERRORS = {400: BAD_INPUT, 403: FORBIDDEN}

# Both read the body through Django, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE (413). Multipart is
# left out: nothing here takes files, and uploaded files would bypass that limit.
PARSERS = [JSONParser, FormParser]


def validated(serializer_class: type[Serializer], request: Request) -> dict:
    """The request body checked by an input serializer (400 with field errors otherwise)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any /api/ URL that names nothing: a JSON 404 in the API's error shape, whatever DEBUG says,
    instead of Django's HTML page (a debug page with DEBUG on)."""
    detail = "Not found."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            detail = f"Not found. API URLs end with a slash: {request.path}/"
    return JsonResponse({"detail": detail, "code": "not_found"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: API clients get JSON; everything else Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return defaults.server_error(request)
