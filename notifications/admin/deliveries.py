"""The delivery ledger: every message sent or tried, its rendered payload, error and attempts.
Read-only; "Retry" sends failed or dead ones again through delivery_retry."""

import json

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from common.admin.deletes import refusal_text
from common.admin.services import admin_actor
from common.exceptions import ApplicationError
from notifications.choices import DeliveryStatus
from notifications.models import Delivery
from notifications.selectors import delivery_list
from notifications.services.deliveries import RETRY_PERMISSION, delivery_retry

BADGES = {
    DeliveryStatus.SENT: "#2e7d32",
    DeliveryStatus.FAILED: "#ef6c00",
    DeliveryStatus.DEAD: "#c62828",
    DeliveryStatus.BUNDLED: "#616161",
}


def delivery_status_badge(delivery: Delivery) -> str:
    color = BADGES.get(delivery.status, "#1565c0")
    return format_html(
        '<span class="delivery-status delivery-{}" style="color: {}; font-weight: bold">{}</span>',
        delivery.status,
        color,
        delivery.get_status_display(),
    )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "event_kind",
        "target",
        "incident",
        "status_badge",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "channel", "event_kind", "created_at")
    list_select_related = ("channel", "user", "incident")
    search_fields = (
        "subject",
        "address",
        "error",
        "provider_message_id",
        "channel__name",
        "user__username",
        "incident__reference",
    )
    date_hierarchy = "created_at"
    show_full_result_count = False
    change_form_template = "admin/notifications/delivery/change_form.html"
    actions = ("retry",)
    fields = (
        "event_kind",
        "target",
        "incident",
        "rule",
        "status_badge",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "provider_message_id",
        "subject",
        "rendered_payload",
        "error",
        "bundled_into",
        "event_key",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        return delivery_list()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Rows are written by routing and by a channel's test send.

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False  # The ledger is history; retrying is the one thing done to it.

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RETRY_PERMISSION)

    @admin.display(description="To")
    def target(self, obj: Delivery) -> str:
        return obj.target_label

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Delivery) -> str:
        return delivery_status_badge(obj)

    @admin.display(description="Payload (as sent, secrets left out)")
    def rendered_payload(self, obj: Delivery) -> str:
        if obj.payload is None:
            return "-"
        text = json.dumps(obj.payload, indent=2, ensure_ascii=False, default=str)
        return format_html('<pre class="delivery-payload" style="white-space: pre-wrap">{}</pre>', text)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="notifications_delivery_retry",
            )
        ]
        return own + super().get_urls()  # Before "<path:object_id>/", which would swallow it.

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        retryable = obj is not None and obj.status in (DeliveryStatus.FAILED, DeliveryStatus.DEAD)
        if retryable and self.has_retry_permission(request):
            context["retry_url"] = reverse("admin:notifications_delivery_retry", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_retry_permission(request):
            raise PermissionDenied
        delivery = self.get_object(request, unquote(object_id))
        if delivery is None:
            raise Http404("No such delivery.")
        try:
            delivery_retry(delivery=delivery, by=admin_actor(request))
        except (ApplicationError, ValidationError) as exc:
            messages.error(request, f"Not retried: {refusal_text(exc)}")
        else:
            messages.success(request, f"Retrying delivery #{delivery.pk} now.")
        return HttpResponseRedirect(reverse("admin:notifications_delivery_change", args=[delivery.pk]))

    @admin.action(description="Retry the selected deliveries (failed or dead)", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        by = admin_actor(request)
        retried = 0
        for delivery in queryset:
            try:
                delivery_retry(delivery=delivery, by=by)
            except (ApplicationError, ValidationError) as exc:
                self.message_user(
                    request, f"#{delivery.pk} not retried: {refusal_text(exc)}", messages.WARNING
                )
            else:
                retried += 1
        if retried:
            self.message_user(request, f"Retrying {retried} deliver{'y' if retried == 1 else 'ies'}.")
