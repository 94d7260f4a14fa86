"""Domain errors raised by services; the API and the admin turn them into responses."""

from typing import Any


class ApplicationError(Exception):
    """A refused operation with a message meant for the person who asked for it."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


class TransitionNotAllowedError(ApplicationError):
    """The transition is not legal from the object's current state."""

    code = "transition_not_allowed"
    http_status = 409


class ConflictError(ApplicationError):
    """Someone else changed the object between the caller reading it and the write: a lost race."""

    code = "conflict"
    http_status = 409


class PermissionDeniedError(ApplicationError):
    """The actor lacks the permission the operation requires."""

    code = "permission_denied"
    http_status = 403
