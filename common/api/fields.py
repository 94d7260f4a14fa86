from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class IdOrSlugRelatedField(serializers.SlugRelatedField):
    """A related object named either by its id or by a unique name such as a priority code ("P2")
    or an incident reference. Represented by the name, which is what people read."""

    default_error_messages = {
        "does_not_exist": 'No object with id or {slug_name} "{value}".',
        "invalid": "Give an id (integer) or a {slug_name} (string).",
    }

    def to_internal_value(self, data):
        queryset = self.get_queryset()
        if isinstance(data, int) and not isinstance(data, bool):
            lookup = {"pk": data}
        elif isinstance(data, str) and data.strip():
            data = data.strip()
            lookup = {"pk": int(data)} if data.isdigit() else {self.slug_field: data}
        else:
            self.fail("invalid", slug_name=self.slug_field)
        try:
            return queryset.get(**lookup)
        except ObjectDoesNotExist:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        except MultipleObjectsReturned:
            self.fail("invalid", slug_name=self.slug_field)
