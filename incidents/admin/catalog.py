"""The service catalog and the priority table. Saves and deletes go through the catalog services."""

from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from common.admin.deletes import REFUSALS, DeleteRefusalMixin, refused_redirect
from common.admin.services import admin_actor
from incidents.admin.display import CSS, priority_badge
from incidents.models import Priority, Service
from incidents.selectors import priority_list, service_list
from incidents.services import priority_update, service_create, service_delete, service_update
from incidents.services.catalog import PRIORITY_FIELDS, SERVICE_FIELDS

DURATION_HELP = "Days, then hours:minutes:seconds, e.g. 00:15:00 or 3 00:00:00. Empty: best effort."


class RefusalsAsMessagesMixin(DeleteRefusalMixin):
    """The forms check what the catalog services check, so a service refuses only what changed
    meanwhile (a name taken by a concurrent save, a permission withdrawn). The write is rolled back
    and the page shown again with the reason on top, never a 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as exc:
            return refused_redirect(request, exc, request.get_full_path())

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # Atomic as a whole: delete_selected logs the deletions before deleting, and list_editable
        # saves several rows; a refusal undoes all of it.
        try:
            with transaction.atomic():
                return super().changelist_view(request, extra_context)
        except REFUSALS as exc:
            return refused_redirect(request, exc, request.get_full_path())


@admin.register(Service)
class ServiceAdmin(RefusalsAsMessagesMixin, admin.ModelAdmin):
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

    def save_model(self, request: HttpRequest, obj: Service, form, change: bool) -> None:
        by = admin_actor(request)
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in SERVICE_FIELDS}
            service_update(service=obj, by=by, changes=changes)
            return
        created = service_create(by=by, **{f: form.cleaned_data[f] for f in SERVICE_FIELDS})
        # The admin logs and redirects with its own instance: make it the row the service wrote.
        for field in Service._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Service) -> None:
        service_delete(by=admin_actor(request), service=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        by = admin_actor(request)
        for service in queryset:
            service_delete(by=by, service=service)


@admin.register(Priority)
class PriorityAdmin(RefusalsAsMessagesMixin, admin.ModelAdmin):
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

    def save_model(self, request: HttpRequest, obj: Priority, form, change: bool) -> None:
        """Also each row of the list's editable columns."""
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in PRIORITY_FIELDS}
        priority_update(priority=obj, by=admin_actor(request), changes=changes)
