"""One error shape for the API: {"detail": ..., "code": ...}, plus field errors for bad input."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
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
            # Model-wide errors (clean(), check constraints) go where DRF puts its own.
            fields = {
                api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
                for field, messages in exc.message_dict.items()
            }
            body = {"detail": "Invalid input.", "code": "invalid", **fields}
        else:
            body = {"detail": " ".join(exc.messages), "code": "invalid"}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        # Django raises this while DRF reads request.data; left alone it becomes a bare 400 page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The request body is larger than the limit of {limit} bytes.", "code": "too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )

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
