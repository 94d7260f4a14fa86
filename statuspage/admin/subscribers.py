"""Status page subscribers in the admin (registered here; statuspage/admin/__init__.py imports this).

Addresses are private: the list needs `statuspage.view_subscriber` (Admins only, common.groups
PRIVATE_VIEWS). Rows are read-only; adding goes through the services (an email subscriber gets the
confirmation unless marked confirmed; a webhook subscriber's secret is shown once), as do the
unsubscribe action and the CSV export's read."""

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from common.admin.services import admin_actor, form_errors_from
from common.exceptions import ApplicationError
from statuspage.choices import SubscriberKind, SubscriberStatus
from statuspage.models import Component, Subscriber
from statuspage.services.subscribers import (
    MAX_URL,
    subscriber_subscribe,
    subscriber_unsubscribe,
    subscriber_webhook_add,
)
from statuspage.subscriber_selectors import subscriber_list

BADGES = {
    SubscriberStatus.PENDING: "#b54708",
    SubscriberStatus.ACTIVE: "#067647",
    SubscriberStatus.UNSUBSCRIBED: "#667085",
}


class SubscriberAddForm(forms.Form):
    kind = forms.ChoiceField(choices=SubscriberKind.choices, initial=SubscriberKind.EMAIL)
    email = forms.EmailField(max_length=254, required=False)
    url = forms.CharField(
        max_length=MAX_URL, required=False, label="Webhook URL", help_text="Stored encrypted."
    )
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.order_by("order", "name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None: every component.",
    )
    confirmed = forms.BooleanField(
        required=False,
        help_text="Email only: you have their consent, skip the confirmation email.",
    )

    def clean(self):
        data = super().clean()
        needed = "email" if data.get("kind") == SubscriberKind.EMAIL else "url"
        if not data.get(needed) and needed not in self.errors:
            self.add_error(needed, "This field is required.")
        return data


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("address", "kind", "status_badge", "component_names", "created_at", "confirmed_at")
    list_filter = ("status", "kind", "components")
    search_fields = ("email", "webhook_host")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["export_csv", "unsubscribe"]
    fields = (
        "address",
        "kind",
        "status_badge",
        "component_names",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        return subscriber_list()

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # Rows change only through the services (actions, links).

    @admin.display(description="Subscriber", ordering="email")
    def address(self, obj: Subscriber) -> str:
        return str(obj)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Subscriber):
        return format_html(
            '<span style="color: {}; font-weight: bold">{}</span>',
            BADGES.get(obj.status, "#344054"),
            obj.get_status_display(),
        )

    @admin.display(description="Components")
    def component_names(self, obj: Subscriber) -> str:
        return ", ".join(component.name for component in obj.components.all()) or "All"

    # --- Adding ---------------------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SubscriberAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            by = admin_actor(request)
            try:
                if data["kind"] == SubscriberKind.WEBHOOK:
                    subscriber, secret = subscriber_webhook_add(
                        by=by, url=data["url"], components=data["components"]
                    )
                    return self._secret_page(request, subscriber, secret)
                subscriber = subscriber_subscribe(
                    by=by, email=data["email"], components=data["components"], confirmed=data["confirmed"]
                )
            except ValidationError as error:
                form_errors_from(form, error)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    f"{subscriber} is subscribed."
                    if subscriber.status == SubscriberStatus.ACTIVE
                    else f"A confirmation email is on its way to {subscriber}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:statuspage_subscriber_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Add subscriber",
            "form": form,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "statuspage/subscriber_add.html", context)

    def _secret_page(self, request: HttpRequest, subscriber: Subscriber, secret: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Webhook subscriber added",
            "subscriber": subscriber,
            "secret": secret,
        }
        response = TemplateResponse(request, "statuspage/subscriber_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    # --- Actions --------------------------------------------------------------------------------

    @admin.action(description="Export selected subscribers as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(["email", "kind", "status", "components", "created", "confirmed"])
        for subscriber in queryset:
            writer.writerow(
                [
                    _cell(subscriber.email or subscriber.webhook_host),
                    subscriber.kind,
                    subscriber.status,
                    _cell("; ".join(component.name for component in subscriber.components.all())),
                    subscriber.created_at.isoformat(),
                    subscriber.confirmed_at.isoformat() if subscriber.confirmed_at else "",
                ]
            )
        return response

    @admin.action(description="Unsubscribe the selected subscribers", permissions=["unsubscribe"])
    def unsubscribe(self, request: HttpRequest, queryset) -> None:
        by = admin_actor(request)
        done = 0
        for subscriber in queryset:
            if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
                subscriber_unsubscribe(subscriber=subscriber, by=by)
                done += 1
        self.message_user(request, f"Unsubscribed {done} subscriber{'s' if done != 1 else ''}.")

    def has_unsubscribe_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("statuspage.change_subscriber")


def _cell(value: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula (CSV injection).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
