from django.db.models import QuerySet

from incidents.models import Incident
from notifications.models import Channel, ContactMethod, Delivery, MessageTemplate, NotificationRule


def rules_enabled() -> list[NotificationRule]:
    """Enabled rules in reading order, with what matching and recipients need already fetched."""
    return list(
        NotificationRule.objects.filter(enabled=True).prefetch_related(
            "priorities", "services", "channels", "users", "groups"
        )
    )


def rule_list() -> QuerySet[NotificationRule]:
    return NotificationRule.objects.prefetch_related("priorities", "services", "channels", "users", "groups")


def channel_list() -> QuerySet[Channel]:
    return Channel.objects.all()


def template_list() -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.all()


def delivery_list() -> QuerySet[Delivery]:
    return Delivery.objects.select_related("channel", "user", "incident", "rule")


def incident_deliveries(incident_id: int) -> QuerySet[Delivery]:
    """Who was told what about one incident, newest first (the incident page's panel)."""
    return delivery_list().filter(incident_id=incident_id)


def contact_method_list(*, user=None) -> QuerySet[ContactMethod]:
    """Contact methods, or one person's when `user` is given."""
    methods = ContactMethod.objects.select_related("user")
    return methods if user is None else methods.filter(user=user)


def preview_incidents(count: int) -> QuerySet[Incident]:
    """The newest incidents, to preview a template against: a page, not the whole history."""
    newest = Incident.objects.order_by("-pk").values_list("pk", flat=True)[:count]
    return Incident.objects.filter(pk__in=list(newest)).order_by("-pk")
