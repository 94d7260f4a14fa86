"""Deletes through a service that refuses objects still in use: the delete page and the "Delete
selected" action show the refusal as a message and delete nothing."""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from common.admin.services import admin_actor
from common.exceptions import ApplicationError


class ServiceDeleteMixin:
    """For ModelAdmins that define `delete_object(*, by: Actor, obj)`, calling the delete service."""

    actions = ("delete_selected",)

    def delete_model(self, request: HttpRequest, obj) -> None:
        self.delete_object(by=admin_actor(request), obj=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        by = admin_actor(request)
        for obj in queryset:
            self.delete_object(by=by, obj=obj)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            opts = self.opts
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )

    @admin.action(permissions=["delete"], description=delete_selected.short_description)
    def delete_selected(self, request: HttpRequest, queryset):
        """Django's, all or nothing (its log entries included), with a refusal as a message."""
        try:
            with transaction.atomic():
                return delete_selected(self, request, queryset)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
