"""What sits under an incident's change form: its status updates, and the base of the read-only
panels the apps above add."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.http import HttpRequest

from incidents.models import Incident, StatusUpdate


class ReadOnlyInline(admin.TabularInline):
    """Rows shown as they are: nothing here is added, changed or deleted through the admin."""

    extra = 0
    can_delete = False
    show_change_link = False
    classes = ("incident-readonly-rows",)

    def has_add_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False


class StatusUpdateHistoryInline(ReadOnlyInline):
    model = StatusUpdate
    verbose_name = "status update"
    verbose_name_plural = "Status updates"
    fields = ("posted", "visibility", "phase", "author", "message")
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("author")

    @admin.display(description="Posted")
    def posted(self, obj: StatusUpdate) -> str:
        return display_for_value(obj.created_at, "-")
