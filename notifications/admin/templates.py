"""Message templates: the words of each event kind for each audience, saved through template_save
(a template that does not compile is a form error), with a preview against a real incident."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path, reverse

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, form_errors_from, refusals
from notifications.admin.forms import MessageTemplateAdminForm, TemplatePreviewForm
from notifications.models import MessageTemplate
from notifications.selectors import template_list
from notifications.services.configuration import template_preview, template_save


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = MessageTemplateAdminForm
    list_display = ("event_kind", "audience", "subject", "updated_at")
    list_filter = ("audience", "event_kind")
    search_fields = ("subject", "body")
    change_form_template = "admin/notifications/messagetemplate/change_form.html"

    def get_queryset(self, request: HttpRequest):
        return template_list().order_by(*(self.get_ordering(request) or ("event_kind", "audience")))

    def has_delete_permission(self, request: HttpRequest, obj: MessageTemplate | None = None) -> bool:
        return False  # Every event kind keeps its words; change them instead.

    def save_model(self, request: HttpRequest, obj: MessageTemplate, form, change: bool) -> None:
        stored = MessageTemplate.objects.get(pk=obj.pk) if change else None
        data = form.cleaned_data
        with refusals():
            saved = template_save(
                by=admin_actor(request),
                template=stored,
                event_kind=data["event_kind"],
                audience=data["audience"],
                subject=data["subject"],
                body=data["body"],
            )
        adopt(obj, saved)

    # --- Preview -----------------------------------------------------------------------------------

    def get_urls(self):
        own = [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="notifications_messagetemplate_preview",
            )
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["preview_url"] = reverse("admin:notifications_messagetemplate_preview")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The template as typed (saved or not) rendered against the incident chosen on the page;
        nothing is saved. Template errors are form errors."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = TemplatePreviewForm(request.POST)
        message = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                message = template_preview(
                    by=admin_actor(request),
                    subject=data["subject"],
                    body=data["body"],
                    event_kind=data["event_kind"],
                    incident=data["incident"],
                )
            except ValidationError as exc:
                form_errors_from(form, exc)
        context = {
            **self.admin_site.each_context(request),
            "title": "Preview a message template",
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "message": message,
            "preview_url": reverse("admin:notifications_messagetemplate_preview"),
            "changelist_url": reverse("admin:notifications_messagetemplate_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/notifications/messagetemplate/preview.html", context)
