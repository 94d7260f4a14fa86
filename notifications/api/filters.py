from django.db.models import QuerySet
from django_filters import rest_framework as filters

from common.api.filters import BooleanFilter, DateTimeFilter, IdFilter, by_id_or_name, by_id_or_username
from notifications.choices import Audience, ChannelKind, ContactKind, DeliveryStatus, EventKind
from notifications.models import Channel, ContactMethod, Delivery, MessageTemplate, NotificationRule


class ChannelFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ChannelKind.choices)
    enabled = BooleanFilter()

    class Meta:
        model = Channel
        fields = []


class RuleFilterSet(filters.FilterSet):
    enabled = BooleanFilter()
    channel = filters.CharFilter(method="filter_channel", help_text="Channel id or name.")

    class Meta:
        model = NotificationRule
        fields = []

    def filter_channel(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="channels__id", name_field="channels__name").distinct()


class TemplateFilterSet(filters.FilterSet):
    event_kind = filters.ChoiceFilter(choices=EventKind.choices)
    audience = filters.ChoiceFilter(choices=Audience.choices)

    class Meta:
        model = MessageTemplate
        fields = []


class DeliveryFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event_kind = filters.ChoiceFilter(choices=EventKind.choices)
    channel = filters.CharFilter(method="filter_channel", help_text="Channel id or name.")
    incident = filters.CharFilter(method="filter_incident", help_text="Incident id or reference.")
    user = filters.CharFilter(method="filter_user", help_text="Recipient's user id or username.")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields = []

    def filter_channel(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="channel_id", name_field="channel__name")

    def filter_incident(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_name(qs, value, id_field="incident_id", name_field="incident__reference")

    def filter_user(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return by_id_or_username(qs, value, field="user")


class ContactMethodFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ContactKind.choices)
    user = IdFilter(field_name="user_id", help_text="User id (who may see others' methods).")

    class Meta:
        model = ContactMethod
        fields = []
