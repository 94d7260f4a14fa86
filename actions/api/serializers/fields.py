"""Field helpers the resources share."""

from datetime import timedelta

from rest_framework import serializers


def seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def tags_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=50), **kwargs)
