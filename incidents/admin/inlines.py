"""What sits under an incident's change form: its timeline and its status updates."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.http import HttpRequest

from incidents.forms import StatusUpdateAddFormSet, StatusUpdateForm
from incidents.models import Incident, StatusUpdate, TimelineEvent


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


class TimelineInline(ReadOnlyInline):
    """The append-only audit trail, oldest first."""

    model = TimelineEvent
    verbose_name = "timeline event"
    verbose_name_plural = "Timeline"
    fields = ("time", "kind", "who", "source", "message")
    readonly_fields = fields
    ordering = ("occurred_at", "id")
    classes = ("incident-readonly-rows", "incident-timeline")

    @admin.display(description="Time")
    def time(self, obj: TimelineEvent) -> str:
        return display_for_value(obj.occurred_at, "-")

    @admin.display(description="Who")
    def who(self, obj: TimelineEvent) -> str:
        return obj.actor_name


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


class StatusUpdateAddInline(admin.StackedInline):
    """One blank status update; IncidentAdmin.save_formset posts it through status_update_create."""

    model = StatusUpdate
    form = StatusUpdateForm
    formset = StatusUpdateAddFormSet
    verbose_name = "new status update"
    verbose_name_plural = "New status updates"
    extra = 1
    max_num = 1
    can_delete = False
    classes = ("incident-new-update",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).none()

    def has_change_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False
