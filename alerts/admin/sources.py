"""Alert sources. The token exists in full only in the response that created or rotated it: the
service returns it, this admin keeps it in the session for exactly one page view (the change page
the add or rotation redirects to), together with the ready webhook URLs and receiver snippets."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from alerts.admin.base import CSS
from alerts.admin.forms import AlertSourceAdminForm
from alerts.choices import SourceKind
from alerts.models import AlertSource
from alerts.services import (
    alert_source_create,
    alert_source_delete,
    alert_source_rotate_token,
    alert_source_update,
)
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from common.exceptions import ApplicationError

SOURCE_FIELDS = AlertSourceAdminForm._meta.fields
TOKEN_PLACEHOLDER = "<token>"


def _session_key(source_pk: int) -> str:
    return f"alerts.source_token.{source_pk}"


def webhook_setup(request: HttpRequest, source: AlertSource, token: str | None) -> dict[str, str]:
    """The two webhook URLs of a source and Alertmanager receivers that use them. Without the
    token (it is shown once), the token-in-path variants carry a placeholder."""
    shown = token or TOKEN_PLACEHOLDER
    token_url = request.build_absolute_uri(reverse("alerts:webhook", args=[shown])).replace(
        "%3Ctoken%3E", TOKEN_PLACEHOLDER
    )
    slug_url = request.build_absolute_uri(reverse("alerts:webhook", args=[source.slug]))
    token_receiver = (
        "receivers:\n"
        "  - name: mitigate\n"
        "    webhook_configs:\n"
        f"      - url: {token_url}\n"
        "        send_resolved: true\n"
        "        max_alerts: 0\n"
    )
    bearer_receiver = (
        "receivers:\n"
        "  - name: mitigate\n"
        "    webhook_configs:\n"
        f"      - url: {slug_url}\n"
        "        send_resolved: true\n"
        "        max_alerts: 0\n"
        "        http_config:\n"
        "          authorization:\n"
        f"            credentials: {shown}\n"
    )
    return {
        "token": token or "",
        "token_url": token_url,
        "slug_url": slug_url,
        "token_receiver": token_receiver,
        "bearer_receiver": bearer_receiver,
        "is_alertmanager": source.kind == SourceKind.ALERTMANAGER,
    }


@admin.register(AlertSource)
class AlertSourceAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = AlertSourceAdminForm
    list_display = (
        "name",
        "kind",
        "enabled",
        "token_hint",
        "default_service",
        "rate_limit_per_minute",
    )
    list_filter = ("kind", "enabled", "is_drill")
    list_select_related = ("default_service",)
    search_fields = ("name", "slug")
    readonly_fields = ("token_hint", "hmac_status")
    autocomplete_fields = ("default_service",)
    change_form_template = "admin/alerts/alertsource/change_form.html"
    prepopulated_fields = {"slug": ("name",)}

    class Media:
        css = {"all": CSS}

    def get_fieldsets(self, request: HttpRequest, obj: AlertSource | None = None):
        main = ("name", "slug", "kind", "enabled", "is_drill", "default_service")
        if obj is not None:
            main += ("token_hint",)
        secret = (
            (("new_hmac_secret", "clear_hmac_secret"),)
            if obj is None
            else (
                "hmac_status",
                ("new_hmac_secret", "clear_hmac_secret"),
            )
        )
        return [
            (None, {"fields": main}),
            (
                "Limits",
                {
                    "fields": (
                        ("rate_limit_per_minute", "max_body_bytes"),
                        ("max_labels", "max_label_name_length"),
                        ("max_label_value_length", "max_annotation_value_length"),
                    )
                },
            ),
            ("Signature (Grafana)", {"fields": secret}),
        ]

    @admin.display(description="Token")
    def token_hint(self, obj: AlertSource) -> str:
        if not obj.token_prefix:
            return "-"
        return format_html('<code class="mitigate-monospace">{}…</code>', obj.token_prefix)

    @admin.display(description="HMAC secret")
    def hmac_status(self, obj: AlertSource) -> str:
        return "set" if obj.hmac_secret else "not set"

    # --- Writes ------------------------------------------------------------------------------------

    def save_model(
        self, request: HttpRequest, obj: AlertSource, form: AlertSourceAdminForm, change: bool
    ) -> None:
        data = {f: form.cleaned_data[f] for f in SOURCE_FIELDS if f in form.cleaned_data}
        data.update(form.secret_changes())
        by = admin_actor(request)
        with refusals():
            if change:
                # The service starts from the stored row, so the secret the form did not send is kept.
                stored = AlertSource.objects.get(pk=obj.pk)
                saved = alert_source_update(source=stored, by=by, data=data)
            else:
                saved, token = alert_source_create(by=by, **data)
                request.session[_session_key(saved.pk)] = token
        adopt(obj, saved)

    def response_add(self, request: HttpRequest, obj: AlertSource, post_url_continue=None) -> HttpResponse:
        if "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(
            request, f"Created the alert source {obj.name}. Copy its token now: it is shown only once."
        )
        return HttpResponseRedirect(reverse("admin:alerts_alertsource_change", args=[obj.pk]))

    def delete_model(self, request: HttpRequest, obj: AlertSource) -> None:
        alert_source_delete(source=obj, by=admin_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        by = admin_actor(request)
        for source in queryset:
            alert_source_delete(source=source, by=by)

    # --- The token, once; rotation -----------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            token = request.session.pop(_session_key(obj.pk), None) if request.method == "GET" else None
            context["webhook"] = webhook_setup(request, obj, token)
            if self.has_change_permission(request, obj):
                context["rotate_url"] = reverse("admin:alerts_alertsource_rotate", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/rotate-token/",
                self.admin_site.admin_view(self.rotate_view),
                name="alerts_alertsource_rotate",
            ),
        ]
        return own + super().get_urls()

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET asks for confirmation; POST replaces the token and shows the new one once."""
        source = self.get_object(request, unquote(object_id))
        if source is None:
            raise Http404("No such alert source.")
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        change_url = reverse("admin:alerts_alertsource_change", args=[source.pk])
        if request.method == "POST":
            try:
                token = alert_source_rotate_token(source=source, by=admin_actor(request))
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                request.session[_session_key(source.pk)] = token
                messages.warning(
                    request,
                    f"Rotated the token of {source.name}: the old one no longer works. Update the "
                    "sender with the new token below; it is shown only once.",
                )
            return HttpResponseRedirect(change_url)
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": f"Rotate the token of {source.name}?",
            "subtitle": None,
            "opts": self.opts,
            "source": source,
            "change_url": change_url,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/alerts/alertsource/rotate.html", context)
