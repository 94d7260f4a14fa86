from collections.abc import Mapping

from django.http import QueryDict
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


def wrong_type(field: serializers.Field, value: object) -> str | None:
    """What is wrong with the JSON type of `value` for `field`, or None. DRF coerces: a CharField
    turns 123 into "123", a BooleanField takes "yes" and 0, an IntegerField "7" and 7.0. A typed API
    takes the type its schema names."""
    if value is None:
        return None
    if isinstance(field, serializers.CharField):
        return None if isinstance(value, str) else NOT_A_STRING
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Must be a whole number."
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "Must be a number."
    many = serializers.ListField | serializers.ListSerializer | serializers.ManyRelatedField
    if isinstance(field, many) and not isinstance(value, list):
        return "Must be a list."
    children: list[tuple[serializers.Field, object]] = []
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        children = [(field.child, item) for item in value]
    elif isinstance(field, serializers.ManyRelatedField):
        children = [(field.child_relation, item) for item in value]
    elif isinstance(field, serializers.DictField) and isinstance(value, Mapping):
        children = [(field.child, item) for item in value.values()]
    elif isinstance(field, serializers.Serializer) and isinstance(value, Mapping):
        children = [(child, value[name]) for name, child in field.fields.items() if name in value]
    for child, item in children:
        message = wrong_type(child, item)
        if message:
            return message
    return None


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
            nul = {name: [NUL_MESSAGE] for name in writable if name in data and contains_nul(data[name])}
            if nul:
                # Before any field looks the value up: PostgreSQL refuses NUL even in a query.
                raise serializers.ValidationError({**errors, **nul})
            # Form posts (the browsable API) carry only strings; JSON carries types, which must match.
            if not isinstance(data, QueryDict):
                for name, field in writable.items():
                    message = wrong_type(field, data[name]) if name in data else None
                    if message:
                        errors[name] = [message]
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
