from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django_filters import rest_framework as filters

from common.api.filters import BooleanFilter, DateTimeFilter, by_id_or_name, by_id_or_username
from incidents.choices import IncidentStatus, ServiceTier, ServiceType
from incidents.models import Incident, Priority, Service


class IncidentOrderingFilter(filters.OrderingFilter):
    """Orders by the chosen keys, then by id, so pages never overlap or skip rows. Status sorts in
    lifecycle order (new first), not alphabetically."""

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        if not value:
            return qs  # Meta.ordering: newest detection first, then id.
        ordering = [self.get_ordering_value(param) for param in value if param]
        if any(key.lstrip("-") == "status_rank" for key in ordering):
            rank = [When(status=status, then=Value(i)) for i, status in enumerate(IncidentStatus.values)]
            qs = qs.annotate(status_rank=Case(*rank, output_field=IntegerField()))
        if not any(key.lstrip("-") in ("id", "pk") for key in ordering):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return qs.order_by(*ordering)


class IncidentFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=IncidentStatus.choices, help_text="Repeat for several: ?status=new&status=in_progress."
    )
    priority = filters.CharFilter(method="filter_priority", help_text="Priority code (P2, any case) or id.")
    service = filters.CharFilter(method="filter_service", help_text="Service slug or id.")
    assignee = filters.CharFilter(method="filter_assignee", help_text="Assignee username or id.")
    is_drill = BooleanFilter()
    auto_resolved = BooleanFilter(help_text="Resolved by automation without a person.")
    is_repeat = BooleanFilter(
        help_text="The same trouble again: an incident of the 30 days before shares a service and an alert "
        "name or the root cause."
    )
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    detected_after = DateTimeFilter(field_name="detected_at", lookup_expr="gte")
    detected_before = DateTimeFilter(field_name="detected_at", lookup_expr="lt")
    search = filters.CharFilter(method="filter_search", help_text="Words in the reference or title.")
    ordering = IncidentOrderingFilter(
        fields=(
            ("detected_at", "detected_at"),
            ("created_at", "created_at"),
            ("priority__code", "priority"),
            ("status_rank", "status"),
        ),
        help_text="Default -detected_at. Prefix with - for descending; ties are broken by id.",
    )

    class Meta:
        model = Incident
        fields = []

    def filter_priority(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # An unknown priority is a mistake to point out, as ?status=bogus is, not an empty list.
        if not by_id_or_name(
            Priority.objects.all(), value, id_field="pk", name_field="code__iexact"
        ).exists():
            codes = ", ".join(Priority.objects.order_by("code").values_list("code", flat=True))
            raise ValidationError({"priority": [f'No priority "{value.strip()}". Valid: {codes}.']})
        return by_id_or_name(qs, value, id_field="priority_id", name_field="priority__code__iexact")

    def filter_service(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="services__id", name_field="services__slug")

    def filter_assignee(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_username(qs, value, field="assignee")

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            qs = qs.filter(Q(reference__icontains=word) | Q(title__icontains=word))
        return qs


class ServiceFilterSet(filters.FilterSet):
    type = filters.ChoiceFilter(choices=ServiceType.choices)
    tier = filters.TypedChoiceFilter(choices=ServiceTier.choices, coerce=int)
    search = filters.CharFilter(method="filter_search", help_text="Part of the name or slug.")

    class Meta:
        model = Service
        fields = []

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return qs.filter(Q(name__icontains=value) | Q(slug__icontains=value))
