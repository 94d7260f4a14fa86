"""The service catalog and the priority table."""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html

from incidents.admin.display import CSS, priority_badge
from incidents.models import Priority, Service
from incidents.selectors import priority_list, service_list

DURATION_HELP = "Days, then hours:minutes:seconds, e.g. 00:15:00 or 3 00:00:00. Empty: best effort."


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "tier", "owner_team", "runbook")
    list_filter = ("type", "tier", "owner_team")
    search_fields = ("name", "slug", "owner_team", "description")
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "type", "tier", "owner_team", "owner_email", "runbook_url", "description")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest):
        return service_list().order_by(*(self.get_ordering(request) or ("name",)))

    @admin.display(description="Runbook")
    def runbook(self, obj: Service) -> str:
        if not obj.runbook_url:
            return "-"
        return format_html('<a href="{}" target="_blank" rel="noopener">open</a>', obj.runbook_url)


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin):
    """P1..P5 are fixed; their names and targets are the runbook's, and editable."""

    list_display = ("code", "badge", "name", "response_target", "resolution_target", "update_interval")
    list_display_links = ("code",)
    list_editable = ("response_target", "resolution_target", "update_interval")
    fields = ("code", "name", "description", "response_target", "resolution_target", "update_interval")
    readonly_fields = ("code",)
    actions = None

    class Media:
        css = {"all": [CSS]}

    def get_queryset(self, request: HttpRequest):
        return priority_list().order_by("code")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Priority | None = None) -> bool:
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in ("response_target", "resolution_target", "update_interval"):
            field.help_text = f"{db_field.help_text} {DURATION_HELP}"
        return field

    @admin.display(description="")
    def badge(self, obj: Priority) -> str:
        return priority_badge(obj)
