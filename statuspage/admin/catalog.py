"""Component groups and components: ordered in the list (the `order` column is editable there),
shown or hidden, linked to Mitigate services; a component's status is set through
component_status_set. Saved through statuspage.services.catalog."""

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from common.actor import Actor
from common.admin.deletes import ServiceDeleteMixin
from common.admin.services import ServiceRefusedError, ServiceSaveMixin, admin_actor, adopt, refusals
from statuspage.admin.badges import status_badge
from statuspage.admin.forms import ComponentForm, ComponentGroupForm
from statuspage.models import Component, ComponentGroup
from statuspage.services.catalog import (
    COMPONENT_FIELDS,
    GROUP_FIELDS,
    component_delete,
    component_group_delete,
    component_group_save,
    component_save,
)
from statuspage.services.components import component_status_set


class ListEditRefusalMixin:
    """A refused save from the list's editable columns: the list again with the reason on top (the
    changelist's save is one transaction, so nothing of it was written)."""

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except ServiceRefusedError as refused:
            for field, texts in refused.errors.items():
                for text in texts:
                    messages.error(
                        request, f"{field.replace('_', ' ').capitalize()}: {text}" if field else text
                    )
            return HttpResponseRedirect(request.get_full_path())


@admin.register(ComponentGroup)
class ComponentGroupAdmin(ListEditRefusalMixin, ServiceDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ComponentGroupForm
    list_display = ("name", "order", "description")
    list_editable = ("order",)
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: ComponentGroup, form, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in GROUP_FIELDS if name in form.cleaned_data}
        with refusals():
            saved = component_group_save(by=admin_actor(request), group=obj if change else None, **fields)
        adopt(obj, saved)

    def delete_object(self, *, by: Actor, obj: ComponentGroup) -> None:
        component_group_delete(by=by, group=obj)


@admin.register(Component)
class ComponentAdmin(ListEditRefusalMixin, ServiceDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ComponentForm
    list_display = ("name", "group", "order", "status_badge", "shown", "service_names")
    list_editable = ("order", "shown")
    list_filter = ("status", "shown", "group")
    list_select_related = ("group",)
    search_fields = ("name", "description", "services__name")
    readonly_fields = ("status_changed_at",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("services")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Component) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="Services")
    def service_names(self, obj: Component) -> str:
        return ", ".join(service.name for service in obj.services.all()) or "-"

    def save_model(self, request: HttpRequest, obj: Component, form, change: bool) -> None:
        data, by = form.cleaned_data, admin_actor(request)
        fields = {name: data[name] for name in COMPONENT_FIELDS if name in data}
        services = list(data["services"]) if "services" in data else None
        with refusals():
            saved = component_save(by=by, component=obj if change else None, services=services, **fields)
            if data.get("status") and data["status"] != saved.status:
                saved = component_status_set(component=saved, status=data["status"], by=by)
        adopt(obj, saved)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """Nothing more: component_save set the services already."""

    def delete_object(self, *, by: Actor, obj: Component) -> None:
        component_delete(by=by, component=obj)
