"""What the incident page shows of notifications: who was told what, when."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from incidents.admin.inlines import ReadOnlyInline
from notifications.admin.deliveries import delivery_status_badge
from notifications.models import Delivery
from notifications.selectors import delivery_list


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
