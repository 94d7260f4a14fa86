import re

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
# The widest primary key the databases hold (bigint); a larger number names no row.
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """The id that `value` spells in ASCII digits, or None. str.isdigit() also accepts "²" and "٣",
    which int() then refuses or reads as another number, and a number past bigint overflows the
    database: neither may reach a query."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
        return number if number <= MAX_ID else None
    return None


def is_id(value: str) -> bool:
    """Written like an id (ASCII digits only), whether or not it fits one."""
    return value.isascii() and value.isdigit()


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class IdOrSlugRelatedField(serializers.SlugRelatedField):
    """A related object named either by its id or by a unique name such as a priority code ("P2")
    or an incident reference. Represented by the name, which is what people read.

    `case_insensitive` matches the name in any case ("p2"); `list_choices` names every valid value
    in the error, for short lists such as priorities."""

    default_error_messages = {
        "does_not_exist": 'No object with id or {slug_name} "{value}".',
        "invalid": "Give an id (integer) or a {slug_name} (string).",
    }

    def __init__(self, *, case_insensitive: bool = False, list_choices: bool = False, **kwargs):
        self.case_insensitive = case_insensitive
        self.list_choices = list_choices
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        queryset = self.get_queryset()
        if isinstance(data, int) and not isinstance(data, bool):
            lookup = {"pk": data} if 0 <= data <= MAX_ID else None
        elif isinstance(data, str) and data.strip():
            data = data.strip()
            if is_id(data):
                number = parse_id(data)
                lookup = {"pk": number} if number is not None else None
            else:
                field = f"{self.slug_field}__iexact" if self.case_insensitive else self.slug_field
                lookup = {field: data}
        else:
            self.fail("invalid", slug_name=self.slug_field)
        try:
            if lookup is None:
                raise ObjectDoesNotExist
            return queryset.get(**lookup)
        except ObjectDoesNotExist:
            self.does_not_exist(queryset, data)
        except MultipleObjectsReturned:
            self.fail("invalid", slug_name=self.slug_field)

    def does_not_exist(self, queryset, data) -> None:
        message = self.error_messages["does_not_exist"].format(slug_name=self.slug_field, value=str(data))
        if self.list_choices:
            names = queryset.order_by(self.slug_field).values_list(self.slug_field, flat=True)
            message += f" Valid: {', '.join(names)}."
        raise serializers.ValidationError(message, code="does_not_exist")


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
        "example": "09:00:00",
    }
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time of day without an offset ("09:00" or "09:00:00"), read in some zone the
    object names (a schedule's). OpenAPI's `time` format is RFC 3339's full-time, which requires an
    offset, so the schema gives the pattern instead; an offset sent anyway is refused, not ignored."""

    default_error_messages = {"offset": "Give a local time without an offset, e.g. 09:00."}

    def to_internal_value(self, value):
        # Django's parse_time drops an offset without a word ("09:00+01:00" reads as 09:00).
        if isinstance(value, str) and OFFSET.search(value.strip()):
            self.fail("offset")
        return super().to_internal_value(value)
