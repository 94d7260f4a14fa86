from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from actions.choices import Category, ProviderKind, Risk, RunStatus
from actions.models import Action, ActionRun, Provider, ProviderGroup
from common.api.filters import BooleanFilter, DateTimeFilter, by_id_or_name, by_id_or_username


def _search(qs: QuerySet, value: str, *fields: str) -> QuerySet:
    for word in value.split():
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": word})
        qs = qs.filter(match)
    return qs


class ProviderFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ProviderKind.choices)
    enabled = BooleanFilter()
    search = filters.CharFilter(method="filter_search", help_text="Words in the name or address.")

    class Meta:
        model = Provider
        fields = []

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return _search(qs, value, "name", "address")


class ProviderGroupFilterSet(filters.FilterSet):
    provider = filters.CharFilter(
        method="filter_provider", help_text="Groups listing this provider (id or name)."
    )
    search = filters.CharFilter(method="filter_search", help_text="Words in the name or description.")

    class Meta:
        model = ProviderGroup
        fields = []

    def filter_provider(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        listing = by_id_or_name(
            ProviderGroup.objects.all(), value, id_field="providers__id", name_field="providers__name"
        )
        return qs.filter(pk__in=listing.values("pk"))

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return _search(qs, value, "name", "description")


class ActionFilterSet(filters.FilterSet):
    category = filters.MultipleChoiceFilter(
        choices=Category.choices, help_text="Repeat for several: ?category=restart&category=cleanup."
    )
    risk = filters.ChoiceFilter(choices=Risk.choices)
    enabled = BooleanFilter()
    service = filters.CharFilter(method="filter_service", help_text="Service slug or id.")
    search = filters.CharFilter(method="filter_search", help_text="Words in the name or description.")

    class Meta:
        model = Action
        fields = []

    def filter_service(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # A subquery, not a join: joining services would multiply the rows the statistics count.
        tagged = by_id_or_name(
            Action.objects.all(), value, id_field="services__id", name_field="services__slug"
        )
        return qs.filter(pk__in=tagged.values("pk"))

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return _search(qs, value, "name", "description")


class ActionRunFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=RunStatus.choices, help_text="Repeat for several: ?status=scheduled&status=running."
    )
    action = filters.CharFilter(method="filter_action", help_text="Action id or name.")
    incident = filters.CharFilter(method="filter_incident", help_text="Incident id or reference.")
    requested_by = filters.CharFilter(method="filter_requested_by", help_text="Username or user id.")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ActionRun
        fields = []

    def filter_action(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="action_id", name_field="action__name")

    def filter_incident(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="incident_id", name_field="incident__reference")

    def filter_requested_by(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_username(qs, value, field="requested_by")
