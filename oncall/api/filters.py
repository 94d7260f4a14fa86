from django.db.models import QuerySet
from django_filters import rest_framework as filters

from common.api.filters import BooleanFilter, DateTimeFilter, by_id_or_name, by_id_or_username
from oncall.choices import PageMode, PageStatus
from oncall.models import EscalationPolicy, Layer, Override, Page, Schedule


class ScheduleFilterSet(filters.FilterSet):
    team = filters.CharFilter()
    user = filters.CharFilter(method="filter_user", help_text="A layer member's user id or username.")

    class Meta:
        model = Schedule
        fields = []

    def filter_user(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_username(qs, value, field="layers__members__user").distinct()


class LayerFilterSet(filters.FilterSet):
    schedule = filters.CharFilter(method="filter_schedule", help_text="Schedule id or name.")

    class Meta:
        model = Layer
        fields = []

    def filter_schedule(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="schedule_id", name_field="schedule__name")


class OverrideFilterSet(filters.FilterSet):
    schedule = filters.CharFilter(method="filter_schedule", help_text="Schedule id or name.")
    user = filters.CharFilter(method="filter_user", help_text="User id or username of who covers.")
    ends_after = DateTimeFilter(field_name="ends_at", lookup_expr="gt")
    starts_before = DateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Override
        fields = []

    def filter_schedule(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="schedule_id", name_field="schedule__name")

    def filter_user(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_username(qs, value, field="user")


class PolicyFilterSet(filters.FilterSet):
    service = filters.CharFilter(method="filter_service", help_text="Service id or name.")

    class Meta:
        model = EscalationPolicy
        fields = []

    def filter_service(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(
            qs, value, id_field="service_links__service_id", name_field="service_links__service__name"
        )


class PageFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PageStatus.choices)
    mode = filters.ChoiceFilter(choices=PageMode.choices)
    escalating = BooleanFilter(method="filter_escalating")
    incident = filters.CharFilter(method="filter_incident", help_text="Incident id or reference.")

    class Meta:
        model = Page
        fields = []

    def filter_escalating(self, qs: QuerySet, name: str, value: bool) -> QuerySet:
        escalating = qs.filter(status=PageStatus.ESCALATING)
        return escalating if value else qs.exclude(status=PageStatus.ESCALATING)

    def filter_incident(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="incident_id", name_field="incident__reference")
