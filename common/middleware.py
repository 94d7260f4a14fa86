"""Limits every API request meets before a view runs: body size (however the body is sent) and no
NUL in the query string."""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

API_PREFIX = "/api/"


def too_large_response() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return JsonResponse(
        {"detail": f"The request body is larger than the limit of {limit} bytes.", "code": "too_large"},
        status=413,
    )


def nul_in_query_response(request: HttpRequest) -> JsonResponse | None:
    """A NUL in a query parameter reaches PostgreSQL in whatever view reads it (filters, analytics),
    which refuses it with an error: refuse it here, named by its parameter."""
    fields = {
        key: ["Null characters are not allowed."]
        for key, values in request.GET.lists()
        if "\x00" in key or any("\x00" in value for value in values)
    }
    if not fields:
        return None
    return JsonResponse({"detail": "Invalid input.", "code": "invalid", **fields}, status=400)


class ApiRequestLimitsMiddleware:
    """No NUL in API query strings (see nul_in_query_response), and chunked API bodies held to
    DATA_UPLOAD_MAX_MEMORY_SIZE like announced ones (a JSON 413).

    Django enforces the limit only through Content-Length. A chunked body (gunicorn de-chunks it and
    sends no Content-Length) is read by Django as empty, so a 2 MB chunked POST became a 400 "title
    required". Here such a body is read up to one byte past the limit: over it is a 413; within it,
    the body is handed on with its length, so views see it as if it had been announced."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            refused = nul_in_query_response(request) or self.bound_body(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def bound_body(request: HttpRequest) -> HttpResponse | None:
        # An announced length is checked by Django when the view reads the body (a 413 through
        # common.api.exceptions), after authentication: an anonymous client's body stays unread.
        if request.META.get("CONTENT_LENGTH"):
            return None
        if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return None
        stream = request.META.get("wsgi.input")
        if stream is None:
            return None
        # Read before authentication, so bounded by the limit: no more than limit + 1 bytes.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            return too_large_response()
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None


# The URL prefixes whose views may skip the middleware after LeanPathMiddleware (the alert webhook).
LEAN_PREFIXES = ("/hooks/",)


def skips_middleware(view):
    """Mark a view that reads nothing the middleware after LeanPathMiddleware provides (session, user,
    messages, CSRF token, CSP nonce): its requests go straight to it (a URL under LEAN_PREFIXES)."""
    view.skips_middleware = True
    return view


class LeanPathMiddleware:
    """A request for a view marked `skips_middleware` is answered by the view from here, past the
    middleware after this one: sessions, CSRF (such a view is csrf_exempt), authentication,
    messages, clickjacking, CSP and axes do nothing for it, and the alert webhook runs on every
    alert a monitoring system sends. Anything else, a URL that does not resolve included, takes the
    whole chain."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(LEAN_PREFIXES):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            if getattr(match.func, "skips_middleware", False):
                request.resolver_match = match
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
