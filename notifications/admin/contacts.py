"""People's contact methods (an email address, a phone number for SMS), saved through
contact_method_save, which checks the address. Everyone manages their own; seeing and changing
other people's takes the contact method permissions (the Admin group's)."""

from django.contrib import admin
from django.http import HttpRequest

from common.admin.deletes import ServiceDeleteMixin
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from notifications.admin.forms import ContactMethodAdminForm
from notifications.models import ContactMethod
from notifications.services.configuration import contact_method_delete, contact_method_save


@admin.register(ContactMethod)
class ContactMethodAdmin(ServiceDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ContactMethodAdminForm
    list_display = ("user", "kind", "address", "enabled", "page_delay_minutes")
    list_filter = ("kind", "enabled")
    list_select_related = ("user",)
    search_fields = ("address", "user__username", "user__email")
    autocomplete_fields = ("user",)

    def _all(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.view_contactmethod")

    def _own(self, request: HttpRequest, obj: ContactMethod | None) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and (obj is None or obj.user_id == request.user.pk)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or self._own(request, None)

    def has_view_permission(self, request: HttpRequest, obj: ContactMethod | None = None) -> bool:
        return super().has_view_permission(request, obj) or self._own(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) or self._own(request, None)

    def has_change_permission(self, request: HttpRequest, obj: ContactMethod | None = None) -> bool:
        return super().has_change_permission(request, obj) or self._own(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ContactMethod | None = None) -> bool:
        return super().has_delete_permission(request, obj) or self._own(request, obj)

    def get_queryset(self, request: HttpRequest):
        methods = super().get_queryset(request)
        return methods if self._all(request) else methods.filter(user=request.user)

    def get_fields(self, request: HttpRequest, obj: ContactMethod | None = None):
        fields = super().get_fields(request, obj)
        # Without the permission the person is always oneself: no user picker to list the others.
        return fields if self._all(request) else [f for f in fields if f != "user"]

    def get_readonly_fields(self, request: HttpRequest, obj: ContactMethod | None = None):
        return ("user",) if obj is not None and self._all(request) else ()

    def get_list_display(self, request: HttpRequest):
        return (
            self.list_display if self._all(request) else ("kind", "address", "enabled", "page_delay_minutes")
        )

    def save_model(self, request: HttpRequest, obj: ContactMethod, form, change: bool) -> None:
        stored = ContactMethod.objects.get(pk=obj.pk) if change else None
        data = form.cleaned_data
        with refusals():
            saved = contact_method_save(
                by=admin_actor(request),
                user=stored.user if stored else data.get("user") or request.user,
                kind=data["kind"],
                address=data["address"],
                enabled=data["enabled"],
                page_delay_minutes=data.get("page_delay_minutes") or 0,
                method=stored,
            )
        adopt(obj, saved)

    def delete_object(self, *, by, obj: ContactMethod) -> None:
        contact_method_delete(method=obj, by=by)
