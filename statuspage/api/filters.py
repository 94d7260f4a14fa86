from django_filters import rest_framework as filters

from statuspage.choices import ComponentStatus, Kind, PublicStatus
from statuspage.models import Component, PublicIncident


class ComponentFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ComponentStatus.choices)
    group = filters.NumberFilter(field_name="group_id", min_value=0, max_value=2**63 - 1)
    shown = filters.BooleanFilter()

    class Meta:
        model = Component
        fields = []


class PublicIncidentFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PublicStatus.choices)
    kind = filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = PublicIncident
        fields = []
