from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters

from common.api.filters import BooleanFilter, IdFilter, by_id_or_name, by_id_or_username
from postmortems.choices import OPEN_ITEM_STATUSES, ActionItemKind, ActionItemStatus, PostmortemStatus
from postmortems.models import ActionItem, Postmortem


class PostmortemFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PostmortemStatus.choices)
    incident = filters.CharFilter(method="filter_incident", help_text="Incident id or reference.")
    service = filters.CharFilter(
        method="filter_service", help_text="Service id or slug, among the incident's services."
    )

    class Meta:
        model = Postmortem
        fields = []

    def filter_incident(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="incident_id", name_field="incident__reference")

    def filter_service(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # One service matches at most one row per incident: no duplicates to remove.
        return by_id_or_name(
            qs, value, id_field="incident__services__id", name_field="incident__services__slug"
        )


class ActionItemFilterSet(filters.FilterSet):
    owner = filters.CharFilter(method="filter_owner", help_text="Owner id or username.")
    status = filters.ChoiceFilter(choices=ActionItemStatus.choices)
    kind = filters.ChoiceFilter(choices=ActionItemKind.choices)
    overdue = BooleanFilter(
        method="filter_overdue", help_text="true: open or in progress and due before today."
    )
    postmortem = IdFilter(field_name="postmortem_id", help_text="Post-mortem id.")
    incident = filters.CharFilter(method="filter_incident", help_text="Incident id or reference.")
    service = filters.CharFilter(
        method="filter_service", help_text="Service id or slug, among the incident's services."
    )

    class Meta:
        model = ActionItem
        fields = []

    def filter_owner(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_username(qs, value, field="owner")

    def filter_overdue(self, qs: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = Q(status__in=OPEN_ITEM_STATUSES, due_date__lt=timezone.localdate())
        return qs.filter(overdue) if value else qs.exclude(overdue)

    def filter_incident(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(
            qs, value, id_field="postmortem__incident_id", name_field="postmortem__incident__reference"
        )

    def filter_service(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(
            qs,
            value,
            id_field="postmortem__incident__services__id",
            name_field="postmortem__incident__services__slug",
        )
