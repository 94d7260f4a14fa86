from collections.abc import Mapping

from rest_framework import serializers

# Browsable-API form posts carry this; it is not input.
IGNORED_INPUT = {"csrfmiddlewaretoken"}

NUL_MESSAGE = "Null characters are not allowed."
NOT_A_STRING = "Not a valid string."


def contains_nul(value: object) -> bool:
    """A NUL anywhere in a value, its nested keys included: PostgreSQL stores none in text or jsonb,
    so it must be refused as input, not met as a database error."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def not_a_string(field: serializers.Field, value: object) -> bool:
    """DRF's CharField turns 123 and true into "123" and "True"; a text field takes only text."""
    if value is None:
        return False
    if isinstance(field, serializers.CharField):
        return not isinstance(value, str)
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return any(not_a_string(field.child, item) for item in value)
    if isinstance(field, serializers.DictField) and isinstance(value, Mapping):
        return any(not_a_string(field.child, item) for item in value.values())
    if isinstance(field, serializers.ListSerializer) and isinstance(value, list):
        return any(not_a_string(field.child, item) for item in value)
    if isinstance(field, serializers.Serializer) and isinstance(value, Mapping):
        return any(
            not_a_string(child, value[name])
            for name, child in field.fields.items()
            if name in value and not child.read_only
        )
    return False


class StrictSerializer(serializers.Serializer):
    """Input that refuses fields it does not know, so a typo or a read-only field such as `status`
    is an error instead of being dropped without a word; text that is not a string; and NUL
    characters anywhere, each as an error on its field."""

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            writable = {name: field for name, field in self.fields.items() if not field.read_only}
            for name in sorted(set(data) - set(writable) - IGNORED_INPUT, key=str):
                errors[str(name)] = [NUL_MESSAGE if contains_nul(name) else "Unknown or read-only field."]
            for name, field in writable.items():
                if name not in data:
                    continue
                if contains_nul(data[name]):
                    errors[name] = [NUL_MESSAGE]
                elif not_a_string(field, data[name]):
                    errors[name] = [NOT_A_STRING]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if errors and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **errors}) from exc
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ErrorSerializer(serializers.Serializer):
    """The error shape of every API response; invalid input adds one list of messages per field."""

    detail = serializers.CharField()
    code = serializers.CharField()
