"""The outbox in the admin: the task messages a refusing broker left waiting, how often publishing
them failed and why, and a button to publish them now (beat does it every OUTBOX_FLUSH_SECONDS)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from common.models import OutboxMessage
from common.outbox import outbox_publish


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["task_name", "kwargs", "eta", "attempts", "created_at", "updated_at", "last_error"]
    list_filter = ["task_name"]
    search_fields = ["task_name", "task_id"]
    date_hierarchy = "created_at"
    readonly_fields = ["task_name", "kwargs", "task_id", "eta", "attempts", "last_error", "created_at"]
    actions = ["publish_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Rows are written only when the broker refuses a message.

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    @admin.action(description="Publish the selected messages now", permissions=["publish"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        published = outbox_publish(ids=selected)
        if published == len(selected):
            self.message_user(request, f"Published {published} message(s).", messages.SUCCESS)
        else:
            self.message_user(
                request,
                f"Published {published} of {len(selected)} message(s): the broker refused one (its error "
                "is on the row) or another round took them. Beat tries again.",
                messages.WARNING,
            )

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("common.change_outboxmessage")
