from collections.abc import Mapping

from rest_framework import serializers

# Browsable-API form posts carry this; it is not input.
IGNORED_INPUT = {"csrfmiddlewaretoken"}


class StrictSerializer(serializers.Serializer):
    """Input that refuses fields it does not know, so a typo or a read-only field such as `status`
    is an error instead of being dropped without a word."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {
                name: ["Unknown or read-only field."] for name in sorted(set(data) - writable - IGNORED_INPUT)
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class ErrorSerializer(serializers.Serializer):
    """The error shape of every API response; invalid input adds one list of messages per field."""

    detail = serializers.CharField()
    code = serializers.CharField()
