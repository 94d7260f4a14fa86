"""The API's one error shape: common.api.exceptions.exception_handler, unit by unit."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, serializers

from common.api.exceptions import exception_handler
from common.exceptions import (
    ApplicationError,
    ConflictError,
    PermissionDeniedError,
    TransitionNotAllowedError,
)


def handle(exc):
    response = exception_handler(exc, {})
    assert response is not None
    return response.status_code, dict(response.data)


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (ConflictError("Changed meanwhile."), 409, "conflict"),
        (ConcurrentTransition("stale"), 409, "conflict"),
        (TransitionNotAllowedError("Cannot resolve."), 409, "transition_not_allowed"),
        (TransitionNotAllowed("Can't switch"), 409, "transition_not_allowed"),
        (PermissionDeniedError("No."), 403, "permission_denied"),
        (ApplicationError("Bad."), 400, "invalid"),
        (ApplicationError("Bad.", code="no_channel"), 400, "no_channel"),
    ],
)
def test_domain_errors(exc, status, code):
    got_status, body = handle(exc)

    assert got_status == status
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]


def test_conflict_keeps_its_extra_fields():
    status, body = handle(ConflictError("Changed.", extra={"status": "on_hold"}))

    assert (status, body) == (409, {"detail": "Changed.", "code": "conflict", "status": "on_hold"})


def test_django_field_errors_keep_their_fields():
    status, body = handle(DjangoValidationError({"reason": ["A reason is required."]}))

    assert status == 400
    assert body == {"detail": "Invalid input.", "code": "invalid", "reason": ["A reason is required."]}


def test_django_model_wide_errors_become_non_field_errors():
    status, body = handle(DjangoValidationError({NON_FIELD_ERRORS: ["Started after detection."]}))

    assert status == 400
    assert body["non_field_errors"] == ["Started after detection."]
    assert NON_FIELD_ERRORS not in body


def test_django_plain_error():
    status, body = handle(DjangoValidationError("Nope."))

    assert (status, body) == (400, {"detail": "Nope.", "code": "invalid"})


def test_drf_field_errors_get_detail_and_code():
    status, body = handle(serializers.ValidationError({"reason": ["This field is required."]}))

    assert status == 400
    assert body == {"detail": "Invalid input.", "code": "invalid", "reason": ["This field is required."]}


def test_drf_list_error():
    status, body = handle(serializers.ValidationError("Nope."))

    assert (status, body) == (400, {"detail": "Nope.", "code": "invalid"})


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (Http404(), 404, "not_found"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
    ],
)
def test_drf_errors_get_a_code(exc, status, code):
    got_status, body = handle(exc)

    assert got_status == status
    assert body["code"] == code


def test_oversized_body_is_413():
    status, body = handle(RequestDataTooBig("too big"))

    assert status == 413
    assert body["code"] == "too_large"


def test_other_exceptions_are_left_to_django():
    assert exception_handler(RuntimeError("boom"), {}) is None
