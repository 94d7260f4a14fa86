"""What the incident page shows of notifications: who was told what, when."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from incidents.admin.inlines import ReadOnlyInline
from incidents.admin.panels import TimelineEntry
from notifications.admin.deliveries import delivery_status_badge
from notifications.models import Delivery
from notifications.selectors import delivery_list, incident_deliveries


class IncidentDeliveryInline(ReadOnlyInline):
    """The incident's deliveries, newest first, each linking to its ledger row."""

    model = Delivery
    fk_name = "incident"
    verbose_name = "notification"
    verbose_name_plural = "Notifications"
    fields = ("delivery", "told", "via", "kind", "status_badge", "sent")
    readonly_fields = fields
    classes = (*ReadOnlyInline.classes, "incident-notifications")

    def get_queryset(self, request: HttpRequest):
        return delivery_list().order_by("-created_at", "-id")

    @admin.display(description="Delivery")
    def delivery(self, obj: Delivery) -> str:
        url = reverse("admin:notifications_delivery_change", args=[obj.pk])
        return format_html('<a href="{}">#{}</a>', url, obj.pk)

    @admin.display(description="Told")
    def told(self, obj: Delivery) -> str:
        if obj.channel_id:
            return f"channel {obj.channel.name}"
        return str(obj.user)

    @admin.display(description="Via")
    def via(self, obj: Delivery) -> str:
        if obj.channel_id:
            return obj.channel.get_kind_display()
        return f"{obj.contact_kind} {obj.address}"

    @admin.display(description="What")
    def kind(self, obj: Delivery) -> str:
        return obj.get_event_kind_display()

    @admin.display(description="Status")
    def status_badge(self, obj: Delivery) -> str:
        return delivery_status_badge(obj)

    @admin.display(description="Sent")
    def sent(self, obj: Delivery) -> str:
        return display_for_value(obj.sent_at, "-")


def incident_timeline_entries(incident) -> list[TimelineEntry]:
    """The incident's deliveries as lines of the war-room timeline (its "Notifications" filter):
    when each message went out, or was queued, to whom, and how it fared. One query."""
    entries = []
    for delivery in incident_deliveries(incident.pk).order_by("created_at", "id"):
        if delivery.channel_id:
            told = f"channel {delivery.channel.name}"
        else:
            told = str(delivery.user or delivery.external)
        message = delivery.subject or delivery.event.get("message", "") or delivery.get_event_kind_display()
        entries.append(
            TimelineEntry(
                occurred_at=delivery.sent_at or delivery.created_at,
                label=f"Notification {delivery.get_status_display().lower()}",
                who=told,
                source=delivery.get_event_kind_display(),
                message=message,
                url=reverse("admin:notifications_delivery_change", args=[delivery.pk]),
            )
        )
    return entries
