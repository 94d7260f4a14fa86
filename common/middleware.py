"""Request-body limits that hold for bodies sent without a Content-Length."""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"


def too_large_response() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return JsonResponse(
        {"detail": f"The request body is larger than the limit of {limit} bytes.", "code": "too_large"},
        status=413,
    )


class RequestBodyLimitMiddleware:
    """API bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are a JSON 413, however they are sent.

    Django enforces the limit only through Content-Length. A chunked body (gunicorn de-chunks it and
    sends no Content-Length) is read by Django as empty, so a 2 MB chunked POST became a 400 "title
    required". Here such a body is read up to one byte past the limit: over it is a 413; within it,
    the body is handed on with its length, so views see it as if it had been announced."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            refused = self.bound_body(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def bound_body(request: HttpRequest) -> HttpResponse | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        announced = request.META.get("CONTENT_LENGTH")
        if announced:
            try:
                too_large = limit is not None and int(announced) > limit
            except ValueError:
                return None  # Django answers a malformed Content-Length itself.
            return too_large_response() if too_large else None
        if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return None
        stream = request.META.get("wsgi.input")
        if stream is None:
            return None
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            return too_large_response()
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None
