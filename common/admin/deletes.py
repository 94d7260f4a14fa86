"""Deletes through services that refuse objects still in use (or changed meanwhile): the delete
page and "Delete selected" show the refusal as a message and delete nothing, never a 500."""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from common.admin.services import admin_actor
from common.exceptions import ApplicationError

REFUSALS = (ApplicationError, ValidationError)


def refusal_text(exc: Exception) -> str:
    return exc.message if isinstance(exc, ApplicationError) else " ".join(exc.messages)


def refused_redirect(request: HttpRequest, exc: Exception, url: str) -> HttpResponse:
    messages.error(request, refusal_text(exc))
    return HttpResponseRedirect(url)


class DeleteRefusalMixin:
    """A refused delete goes back to the object's page with the reason on top. `bulk_delete =
    False` drops "Delete selected" where deletes should go one at a time."""

    bulk_delete = True

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not self.bulk_delete:
            actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except REFUSALS as exc:
            opts = self.opts
            change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            return refused_redirect(request, exc, change_url)


class ServiceDeleteMixin(DeleteRefusalMixin):
    """For ModelAdmins that define `delete_object(*, by: Actor, obj)`, calling the delete service."""

    actions = ("delete_selected",)

    def delete_model(self, request: HttpRequest, obj) -> None:
        self.delete_object(by=admin_actor(request), obj=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        by = admin_actor(request)
        for obj in queryset:
            self.delete_object(by=by, obj=obj)

    @admin.action(permissions=["delete"], description=delete_selected.short_description)
    def delete_selected(self, request: HttpRequest, queryset):
        """Django's, all or nothing (its log entries included), with a refusal as a message."""
        try:
            with transaction.atomic():
                return delete_selected(self, request, queryset)
        except REFUSALS as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return None
