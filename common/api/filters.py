"""Lookups and filters shared by the apps' FilterSets: foreign keys by id or by a human name,
ids and times that always fit the database (a bad value is a 400, never an overflow)."""

from datetime import UTC

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField

from common.api.fields import MAX_ID, is_id, parse_id


def by_id_or_name(qs: QuerySet, value: str, *, id_field: str, name_field: str) -> QuerySet:
    value = value.strip()
    if is_id(value):
        number = parse_id(value)
        return qs.filter(**{id_field: number}) if number is not None else qs.none()
    return qs.filter(**{name_field: value})


def by_id_or_username(qs: QuerySet, value: str, *, field: str) -> QuerySet:
    # Usernames may be all digits, so a number matches either.
    value = value.strip()
    match = Q(**{f"{field}__username": value})
    number = parse_id(value)
    if number is not None:
        match |= Q(**{f"{field}_id": number})
    return qs.filter(match)


class IdFilter(filters.NumberFilter):
    """A row's id: a whole number a primary key can hold."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time that still exists once moved to UTC: "0001-01-01T00:00+01:00" parses, then
    overflows in the database driver."""

    default_error_messages = {"overflow": "The time is out of range once converted to UTC."}

    def clean(self, value):
        if value == "":
            # Sent but empty is not a time (absent is no filter).
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        value = super().clean(value)
        if value is None:
            return None
        try:
            # In UTC: PostgreSQL takes offsets up to 15:59 only, Python up to 23:59.
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["overflow"], code="overflow") from None


class DateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class StrictBooleanField(forms.Field):
    """true or false, as the schema says, or absent: anything else is an error, not "no filter"."""

    default_error_messages = {"invalid": "Enter true or false."}
    VALUES = {"true": True, "false": False}

    def to_python(self, value):
        if value is None:
            return None
        if value in self.VALUES:
            return self.VALUES[value]
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # django-filter's BooleanWidget turns any other word into None, i.e. no filter at all.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)
