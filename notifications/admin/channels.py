"""Channels: where messages go. The secret (webhook URL, bot token, Twilio SID:token, apprise URL,
signing key) is write-only: no page shows it, only whether it is set. Each saved channel has a
"Send test message" button (a POST, through the delivery ledger) and disabled ones an "Enable"."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from common.admin.deletes import ServiceDeleteMixin, refusal_text
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from common.exceptions import ApplicationError
from notifications.admin.forms import ChannelAdminForm
from notifications.models import Channel
from notifications.selectors import channel_list
from notifications.services.channels import channel_delete, channel_enable, channel_save, channel_test_send


@admin.register(Channel)
class ChannelAdmin(ServiceDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ("name", "kind", "enabled", "disabled_reason", "permanent_failures", "paused_until")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    readonly_fields = ("secret_status", "disabled_reason", "permanent_failures", "paused_until")
    change_form_template = "admin/notifications/channel/change_form.html"

    def get_queryset(self, request: HttpRequest):
        return channel_list().order_by(*(self.get_ordering(request) or ("name",)))

    def get_fieldsets(self, request: HttpRequest, obj: Channel | None = None):
        fieldsets = [
            (None, {"fields": ("name", "kind", "enabled", "config")}),
            (
                "Secret",
                {
                    "fields": ("secret_status", "new_secret"),
                    "description": "Stored encrypted and never shown again. A blank field keeps what "
                    "is stored.",
                },
            ),
        ]
        if obj is not None:
            fieldsets.append(
                ("Health", {"fields": ("disabled_reason", "permanent_failures", "paused_until")})
            )
        return fieldsets

    @admin.display(description="Secret stored")
    def secret_status(self, obj: Channel) -> str:
        return "set" if obj.secret else "not set"

    # --- Writes ------------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Channel, form: ChannelAdminForm, change: bool) -> None:
        # The service starts from the stored row, so the secret the form never shows is kept.
        stored = Channel.objects.get(pk=obj.pk) if change else None
        with refusals(rename={"secret": "new_secret"}):
            saved = channel_save(
                by=admin_actor(request),
                channel=stored,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                config=form.cleaned_data["config"],
                secret=form.cleaned_data["new_secret"],
                enabled=form.cleaned_data["enabled"],
            )
        adopt(obj, saved)

    def delete_object(self, *, by, obj: Channel) -> None:
        channel_delete(channel=obj, by=by)

    # --- Send a test message, enable -----------------------------------------------------------------

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(
                "<path:object_id>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name=f"{info}_send_test",
            ),
            path(
                "<path:object_id>/enable/",
                self.admin_site.admin_view(self.enable_view),
                name=f"{info}_enable",
            ),
        ]
        return own + super().get_urls()  # Before "<path:object_id>/", which would swallow these.

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change and self.has_change_permission(request, obj):
            context["channel_tools"] = {
                "test_url": reverse("admin:notifications_channel_send_test", args=[obj.pk]),
                "enable_url": (
                    None if obj.enabled else reverse("admin:notifications_channel_enable", args=[obj.pk])
                ),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _tool_channel(self, request: HttpRequest, object_id: str) -> Channel:
        channel = self.get_object(request, unquote(object_id))
        if channel is None:
            raise Http404("No such channel.")
        if not self.has_change_permission(request, channel):
            raise PermissionDenied
        return channel

    def send_test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = self._tool_channel(request, object_id)
        try:
            delivery = channel_test_send(channel=channel, by=admin_actor(request))
        except (ApplicationError, ValidationError) as exc:
            messages.error(request, f"No test message sent: {refusal_text(exc)}")
        else:
            url = reverse("admin:notifications_delivery_change", args=[delivery.pk])
            status = delivery.get_status_display().lower()
            if delivery.status == "sent":
                messages.success(
                    request,
                    format_html(
                        'Test message sent to {} (<a href="{}">delivery #{}</a>{}).',
                        channel.name,
                        url,
                        delivery.pk,
                        f", provider id {delivery.provider_message_id}"
                        if delivery.provider_message_id
                        else "",
                    ),
                )
            else:
                messages.error(
                    request,
                    format_html(
                        'The test message to {} was not sent ({}; <a href="{}">delivery #{}</a>): {}',
                        channel.name,
                        status,
                        url,
                        delivery.pk,
                        delivery.error or "no error recorded",
                    ),
                )
        return HttpResponseRedirect(reverse("admin:notifications_channel_change", args=[channel.pk]))

    def enable_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = self._tool_channel(request, object_id)
        try:
            channel_enable(channel=channel, by=admin_actor(request))
        except (ApplicationError, ValidationError) as exc:
            messages.error(request, f"Not enabled: {refusal_text(exc)}")
        else:
            messages.success(request, f"{channel.name} is enabled again; its failure count starts at 0.")
        return HttpResponseRedirect(reverse("admin:notifications_channel_change", args=[channel.pk]))
