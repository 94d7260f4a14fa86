"""People's contact methods (an email address, a phone number for SMS), saved through
contact_method_save, which checks the address."""

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
    list_display = ("user", "kind", "address", "enabled")
    list_filter = ("kind", "enabled")
    list_select_related = ("user",)
    search_fields = ("address", "user__username", "user__email")
    autocomplete_fields = ("user",)

    def get_readonly_fields(self, request: HttpRequest, obj: ContactMethod | None = None):
        return ("user",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: ContactMethod, form, change: bool) -> None:
        stored = ContactMethod.objects.get(pk=obj.pk) if change else None
        data = form.cleaned_data
        with refusals():
            saved = contact_method_save(
                by=admin_actor(request),
                user=stored.user if stored else data["user"],
                kind=data["kind"],
                address=data["address"],
                enabled=data["enabled"],
                method=stored,
            )
        adopt(obj, saved)

    def delete_object(self, *, by, obj: ContactMethod) -> None:
        contact_method_delete(method=obj, by=by)
