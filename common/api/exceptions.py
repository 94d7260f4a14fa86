"""One error shape for the API: {"detail": ..., "code": ...}, plus field errors for bad input."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.exceptions import ApplicationError, ConflictError, TransitionNotAllowedError


def exception_handler(exc, context):
    if isinstance(exc, TransitionNotAllowed):
        exc = TransitionNotAllowedError(str(exc))
    elif isinstance(exc, ConcurrentTransition):
        exc = ConflictError("The object was changed by someone else. Reload and try again.")

    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, "code": exc.code, **exc.extra}, status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {"detail": "Invalid input.", "code": "invalid", **exc.message_dict}
        else:
            body = {"detail": " ".join(exc.messages), "code": "invalid"}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and "detail" in response.data:
        response.data["code"] = getattr(response.data["detail"], "code", "error")
    elif isinstance(response.data, dict):
        response.data = {"detail": "Invalid input.", "code": "invalid", **response.data}
    elif isinstance(response.data, list):
        response.data = {"detail": " ".join(str(e) for e in response.data), "code": "invalid"}
    return response
