"""What the incident page shows of alerts: the alerts that opened or joined it."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from alerts.admin.base import alert_status_badge
from alerts.models import Alert
from incidents.models import Incident


class IncidentAlertInline(admin.TabularInline):
    """The incident's alerts, first received first, each linking to its page with labels and matches."""

    model = Alert
    fk_name = "incident"
    verbose_name = "alert"
    verbose_name_plural = "Alerts"
    fields = ("alert", "status_badge", "severity", "source", "opened", "received_at", "occurrence_count")
    readonly_fields = fields
    ordering = ("received_at", "id")
    extra = 0
    can_delete = False
    show_change_link = False
    classes = ("incident-readonly-rows", "incident-alerts")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("source")

    def has_add_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    @admin.display(description="Alert")
    def alert(self, obj: Alert) -> str:
        url = reverse("admin:alerts_alert_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.name or obj.fingerprint)

    @admin.display(description="Status")
    def status_badge(self, obj: Alert) -> str:
        return alert_status_badge(obj.status)

    @admin.display(description="Opened the incident", boolean=True)
    def opened(self, obj: Alert) -> bool:
        return obj.opened_incident
