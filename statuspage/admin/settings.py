"""The page's settings: one row, edited in place (the list leads straight to it), saved through
page_settings_save, which sniffs the uploaded logo. A link opens the page as customers see it (in
private mode, staff see it too)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from statuspage.admin.forms import PageSettingsForm
from statuspage.branding import page_settings
from statuspage.models import PageSettings
from statuspage.services.catalog import SETTINGS_FIELDS, page_settings_save


@admin.register(PageSettings)
class PageSettingsAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = PageSettingsForm
    fieldsets = (
        (None, {"fields": ("preview",)}),
        (
            "Branding",
            {"fields": ("name", "logo_shown", "logo_file", "logo_clear", "accent_colour", "support_url")},
        ),
        ("Display and access", {"fields": ("time_zone", "history_days", "private")}),
    )
    readonly_fields = ("preview", "logo_shown")

    @admin.display(description="Status page")
    def preview(self, obj: PageSettings) -> str:
        return format_html(
            '<a class="button" href="{}" target="_blank" rel="noopener" id="statuspage-preview">'
            "Preview the status page</a>",
            reverse("statuspage:index"),
        )

    @admin.display(description="Current logo")
    def logo_shown(self, obj: PageSettings) -> str:
        if not obj.logo:
            return "None"
        return f"{obj.logo_content_type}, {len(bytes(obj.logo)) // 1024 + 1} KB"

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        row = page_settings()
        return HttpResponseRedirect(reverse("admin:statuspage_pagesettings_change", args=[row.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        if not self.has_change_permission(request, obj):
            # A viewer's read-only page: the upload fields are not model fields to display.
            kwargs["fields"] = [f for f in SETTINGS_FIELDS]
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if self.has_change_permission(request, obj):
            return self.fieldsets
        return ((None, {"fields": ("preview", "logo_shown", *SETTINGS_FIELDS)}),)

    def save_model(
        self, request: HttpRequest, obj: PageSettings, form: PageSettingsForm, change: bool
    ) -> None:
        fields = {name: form.cleaned_data[name] for name in SETTINGS_FIELDS}
        with refusals(rename={"logo": "logo_file"}):
            saved = page_settings_save(
                by=admin_actor(request),
                logo=form.logo_bytes(),
                logo_clear=form.cleaned_data.get("logo_clear", False),
                **fields,
            )
        adopt(obj, saved)
