from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters

from alerts.choices import AlertStatus, IncidentPolicy, SourceKind
from alerts.models import Alert, AlertRule, AlertSource, Silence
from common.api.filters import BooleanFilter, DateTimeFilter, by_id_or_name


class AlertSourceFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=SourceKind.choices)
    enabled = BooleanFilter()

    class Meta:
        model = AlertSource
        fields = []


class AlertFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=AlertStatus.choices)
    source = filters.CharFilter(method="filter_source", help_text="Alert source id or slug.")
    service = filters.CharFilter(method="filter_service", help_text="Service id or slug.")
    incident = filters.CharFilter(method="filter_incident", help_text="Incident id or reference.")
    silenced = BooleanFilter(method="filter_silenced", help_text="Marked silenced by a silence.")
    processed = BooleanFilter(help_text="Through rule matching since its latest change.")
    processing_failed = BooleanFilter(
        method="filter_processing_failed", help_text="Processing failed every attempt and was given up."
    )
    name = filters.CharFilter(help_text="Exact alert name (alertname).")
    fingerprint = filters.CharFilter()
    received_after = DateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = DateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Alert
        fields = []

    def filter_source(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="source_id", name_field="source__slug")

    def filter_service(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="service_id", name_field="service__slug")

    def filter_incident(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="incident_id", name_field="incident__reference")

    def filter_silenced(self, qs: QuerySet, name: str, value: bool) -> QuerySet:
        return qs.filter(silenced_by__isnull=not value)

    def filter_processing_failed(self, qs: QuerySet, name: str, value: bool) -> QuerySet:
        return qs.filter(processing_failed_at__isnull=not value)


class AlertRuleFilterSet(filters.FilterSet):
    enabled = BooleanFilter()
    incident_policy = filters.ChoiceFilter(choices=IncidentPolicy.choices)
    service = filters.CharFilter(method="filter_service", help_text="Service id or slug.")

    class Meta:
        model = AlertRule
        fields = []

    def filter_service(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="service_id", name_field="service__slug")


class SilenceFilterSet(filters.FilterSet):
    active = BooleanFilter(
        method="filter_active", help_text="true: in force now; false: over or not started yet."
    )

    class Meta:
        model = Silence
        fields = []

    def filter_active(self, qs: QuerySet, name: str, value: bool) -> QuerySet:
        now = timezone.now()
        in_force = Q(starts_at__lte=now, ends_at__gt=now)
        return qs.filter(in_force) if value else qs.exclude(in_force)
