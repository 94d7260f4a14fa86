"""API tokens in the admin: issue one (its key is shown on the page that answers the form, once,
and stored nowhere), see whose tokens exist and when they expire, revoke them."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from common.exceptions import ApplicationError
from common.models import ApiToken, ApiTokenStatus
from common.services import api_token_create, api_token_revoke


class ApiTokenCreateForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username")
    )
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “deploy pipeline”.")
    expires_in_days = forms.IntegerField(min_value=1, max_value=3650, label="Expires in (days)")


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return ApiTokenStatus.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
        now = timezone.now()
        if self.value() == ApiTokenStatus.REVOKED:
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == ApiTokenStatus.EXPIRED:
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == ApiTokenStatus.ACTIVE:
            return queryset.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix_hint", "status_badge", "created_at", "expires_at", "revoked_at"]
    list_filter = [StatusFilter, "expires_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    date_hierarchy = "created_at"
    fields = [
        "user",
        "name",
        "prefix_hint",
        "status_badge",
        "created_at",
        "expires_at",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = fields
    # Nothing about a token is edited after it is issued: "change" permission means revoking.
    actions = ["revoke"]

    @admin.display(description="Key")
    def prefix_hint(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"

    @admin.display(description="Status")
    def status_badge(self, obj: ApiToken) -> str:
        return obj.status

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                api_token_revoke(token=token, by=request.user)
            except ApplicationError as exc:  # Revoked meanwhile by someone else.
                messages.warning(request, f"{token}: {exc.message}")
            else:
                revoked += 1
        messages.success(request, f"Revoked {revoked} token(s); they no longer work.")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        """Issue a token. The answer to a valid form is the key itself, shown this once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"expires_in_days": max(1, settings.API_TOKEN_TTL.days)}
        form = ApiTokenCreateForm(request.POST or None, initial=initial)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Add API token",
            "subtitle": None,
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                token, key = api_token_create(
                    user=data["user"],
                    name=data["name"],
                    expires_at=timezone.now() + timedelta(days=data["expires_in_days"]),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_addition(request, token, [{"added": {}}])
                context.update(title=f"API token “{token.name}” for {token.user}", token=token, key=key)
                # Admin views are never cached (no-store), so the key stays off disk caches.
                return TemplateResponse(request, "admin/common/apitoken/created.html", context)
        return TemplateResponse(request, "admin/common/apitoken/add.html", context)
