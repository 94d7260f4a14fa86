from django_filters import rest_framework as filters

from common.api.filters import BooleanFilter, IdFilter
from statuspage.choices import ComponentStatus, Kind, PublicStatus
from statuspage.models import Component, PublicIncident


class ComponentFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ComponentStatus.choices)
    group = IdFilter(field_name="group_id", help_text="Group id.")
    shown = BooleanFilter()

    class Meta:
        model = Component
        fields = []


class PublicIncidentFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PublicStatus.choices)
    kind = filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = PublicIncident
        fields = []
