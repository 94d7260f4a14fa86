"""The OpenAPI schema says what the API really answers: every error status an operation can give,
and null or "" wherever a stored value can be one."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers

from common.api.serializers import ErrorSerializer, StrictSerializer

WRITE_METHODS = {"post", "put", "patch", "delete"}
ERROR_SCHEMA = "Error"

ERRORS = {
    "400": "Invalid input: detail, code and one list of messages per field at fault.",
    "401": "Not authenticated: no credentials, or credentials that are not valid.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "No such object, or a page past the last one.",
    "409": "Not possible in the object's current state, or it was changed meanwhile: reload and retry.",
    "413": "The request body is larger than the limit.",
    "415": "The request body is not in a supported media type.",
}


def _statuses(path: str, method: str, operation: dict) -> list[str]:
    has_body = "requestBody" in operation or method in ("post", "put", "patch")
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    statuses = ["401", "403"]
    if has_body or has_query or method in WRITE_METHODS:
        statuses.append("400")
    if "{" in path or any(p.get("name") == "page" for p in operation.get("parameters", [])):
        statuses.append("404")
    if method in WRITE_METHODS:
        statuses.append("409")
    if has_body:
        statuses += ["413", "415"]
    return statuses


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the errors every operation can answer (authentication,
    permissions, validation, missing objects, state conflicts, body limits), where the view did not
    already describe them, in the one error shape of common.api.exceptions."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        ERROR_SCHEMA,
        {
            "type": "object",
            "description": ErrorSerializer.__doc__,
            "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
            "required": ["detail", "code"],
            "additionalProperties": True,
        },
    )
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                responses.setdefault(
                    status,
                    {
                        "description": ERRORS[status],
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
                        },
                    },
                )
    return result


def _stored_as(model: type[models.Model], attrs: list[str]) -> tuple[bool, models.Field | None]:
    """Whether the value at `attrs` can be null (any step of the path is a nullable column), and the
    model field it ends on (None for properties and to-many relations)."""
    nullable = False
    field = None
    for i, attr in enumerate(attrs):
        try:
            field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return nullable, None
        if field.one_to_many or field.many_to_many:
            return False, None
        nullable = (
            nullable or bool(getattr(field, "null", False)) or (field.one_to_one and field.auto_created)
        )
        if field.is_relation and i < len(attrs) - 1:
            model = field.related_model
    return nullable, field


class AutoSchema(openapi.AutoSchema):
    """Read-only fields of model serializers lose allow_null and allow_blank (DRF drops them with
    `read_only_fields`), so the schema claimed a string where the API answers null or "". They are
    put back from the model fields the values come from."""

    def _map_basic_serializer(self, serializer, direction):
        serializer = force_instance(serializer)
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is not None:
            for field in serializer.fields.values():
                if field.read_only and not isinstance(field, serializers.ManyRelatedField):
                    self._restore_empty_values(model, field)
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False  # It answers 400 to any other field.
        return schema

    @staticmethod
    def _restore_empty_values(model: type[models.Model], field: serializers.Field) -> None:
        attrs = getattr(field, "source_attrs", None)
        if not attrs:
            return
        nullable, stored = _stored_as(model, attrs)
        if nullable:
            field.allow_null = True
        if (
            stored is not None
            and getattr(stored, "blank", False)
            and isinstance(stored, models.CharField | models.TextField)
            and isinstance(field, serializers.CharField | serializers.ChoiceField)
        ):
            field.allow_blank = True
