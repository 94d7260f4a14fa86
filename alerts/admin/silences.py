"""Silences (maintenance windows), saved through silence_save and ended early with silence_expire.
They stay on record after they end, so there is no delete."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from alerts.admin.base import CSS, matchers_text
from alerts.admin.forms import SilenceAdminForm
from alerts.models import Silence
from alerts.services import silence_expire, silence_save
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from common.exceptions import ApplicationError

SILENCE_FIELDS = SilenceAdminForm._meta.fields
DEFAULT_LENGTH = timedelta(hours=2)


def silence_state(silence: Silence, now=None) -> str:
    now = now or timezone.now()
    if silence.ends_at <= now:
        return "expired"
    if silence.starts_at > now:
        return "pending"
    return "active"


class ActiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("pending", "Not started"), ("expired", "Expired"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(starts_at__lte=now, ends_at__gt=now)
        if self.value() == "pending":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(ends_at__lte=now)
        return queryset


@admin.register(Silence)
class SilenceAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = SilenceAdminForm
    list_display = ("reason_short", "matchers_display", "starts_at", "ends_at", "state_badge", "created_by")
    list_filter = (ActiveFilter,)
    list_select_related = ("created_by",)
    search_fields = ("reason",)
    date_hierarchy = "starts_at"
    readonly_fields = ("created_by", "created_at", "state_badge")
    actions = ("expire_now",)
    change_form_template = "admin/alerts/silence/change_form.html"

    class Media:
        css = {"all": CSS}

    def get_fields(self, request: HttpRequest, obj: Silence | None = None):
        fields = ["matchers", "starts_at", "ends_at", "reason"]
        if obj is not None:
            fields += ["state_badge", "created_by", "created_at"]
        return fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        now = timezone.now().replace(second=0, microsecond=0)
        return {
            "starts_at": now,
            "ends_at": now + DEFAULT_LENGTH,
            **super().get_changeform_initial_data(request),
        }

    def has_delete_permission(self, request: HttpRequest, obj: Silence | None = None) -> bool:
        return False

    @admin.display(description="Reason", ordering="reason")
    def reason_short(self, obj: Silence) -> str:
        return obj.reason if len(obj.reason) <= 80 else obj.reason[:79] + "…"

    @admin.display(description="Matchers")
    def matchers_display(self, obj: Silence) -> str:
        return format_html('<code class="mitigate-monospace">{}</code>', matchers_text(obj.matchers, ", "))

    @admin.display(description="State")
    def state_badge(self, obj: Silence) -> str:
        state = silence_state(obj)
        colour = {"active": "run-awaiting_approval", "pending": "run-pending", "expired": "run-cancelled"}[
            state
        ]
        label = {"active": "Active", "pending": "Not started", "expired": "Expired"}[state]
        return format_html('<span class="mitigate-badge run-status {}">{}</span>', colour, label)

    # --- Writes ------------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Silence, form: SilenceAdminForm, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in SILENCE_FIELDS if f in form.cleaned_data}
        stored = Silence.objects.get(pk=obj.pk) if change else None
        with refusals():
            saved = silence_save(by=admin_actor(request), silence=stored, data=data)
        adopt(obj, saved)

    @admin.action(description="Expire now", permissions=["change"])
    def expire_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        by = admin_actor(request)
        expired = 0
        for silence in queryset:
            try:
                silence_expire(by=by, silence=silence)
            except ApplicationError as exc:
                messages.error(request, f"Silence {silence.pk}: {exc.message}")
            else:
                expired += 1
        if expired:
            messages.success(request, f"Expired {expired} silence{'s' if expired != 1 else ''}.")

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/expire/",
                self.admin_site.admin_view(self.expire_view),
                name="alerts_silence_expire",
            ),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if (
            obj is not None
            and change
            and self.has_change_permission(request, obj)
            and obj.ends_at > timezone.now()
        ):
            context["expire_url"] = reverse("admin:alerts_silence_expire", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def expire_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        silence = self.get_object(request, unquote(object_id))
        if silence is None:
            raise Http404("No such silence.")
        if not self.has_change_permission(request, silence):
            raise PermissionDenied
        try:
            silence_expire(by=admin_actor(request), silence=silence)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Expired silence {silence.pk}: alerts that match it from now on are no longer silenced.",
            )
        return HttpResponseRedirect(reverse("admin:alerts_silence_change", args=[silence.pk]))
