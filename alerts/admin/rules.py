"""Alert rules with their automated responses, saved as a whole through alert_rule_save, and the
link to the rule tester."""

from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest
from django.urls import path, reverse

from alerts.admin.base import CSS, matchers_text
from alerts.admin.forms import AlertRuleAdminForm, AutomatedResponseForm, AutomatedResponseFormSet
from alerts.admin.tester import rule_tester_view
from alerts.models import AlertRule, AutomatedResponse
from alerts.services import alert_rule_delete, alert_rule_save
from alerts.services.rules import RULE_FIELDS
from common.admin.services import (
    ServiceRowsInlineMixin,
    ServiceRowsSaveMixin,
    ServiceSaveMixin,
    admin_actor,
)


class AutomatedResponseInline(ServiceRowsInlineMixin, admin.TabularInline):
    model = AutomatedResponse
    form = AutomatedResponseForm
    formset = AutomatedResponseFormSet
    extra = 0
    ordering = ("order", "id")
    verbose_name = "automated response"
    verbose_name_plural = "Automated responses (run in order for each matching alert)"
    fields = ("order", "action", "trigger", "delay_seconds", "parameters", "enabled")
    autocomplete_fields = ("action",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("action")


@admin.register(AlertRule)
class AlertRuleAdmin(ServiceRowsSaveMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = AlertRuleAdminForm
    inlines = (AutomatedResponseInline,)
    rows_formset = AutomatedResponseFormSet
    rows_name = "automated responses"
    rows_key = "responses"
    rows_label = "Response"
    rows_refused = "The rule could not be saved."
    list_display = (
        "order",
        "name",
        "enabled",
        "incident_policy",
        "priority",
        "service",
        "matchers_display",
        "responses_count",
    )
    list_display_links = ("name",)
    list_filter = ("enabled", "incident_policy", "service")
    list_select_related = ("service", "priority")
    search_fields = ("name", "description", "alert_name")
    autocomplete_fields = ("service",)
    ordering = ("order", "id")
    change_list_template = "admin/alerts/alertrule/change_list.html"
    fieldsets = (
        (None, {"fields": ("name", "description", ("order", "enabled", "continue_matching"))}),
        (
            "Which alerts",
            {
                "fields": ("matchers", ("alert_name", "severity")),
                "description": "A rule matches an alert when every condition here holds.",
            },
        ),
        ("What happens", {"fields": ("service", "priority", "incident_policy", "group_by", "runbook")}),
    )

    class Media:
        css = {"all": CSS}

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(response_count=Count("responses"))

    @admin.display(description="Matchers")
    def matchers_display(self, obj: AlertRule) -> str:
        return matchers_text(obj.matchers, ", ") or "any alert"

    @admin.display(description="Responses", ordering="response_count")
    def responses_count(self, obj: AlertRule) -> int:
        return getattr(obj, "response_count", 0)

    # --- Writes: the rule and its responses in one alert_rule_save ---------------------------------

    def save_with_rows(
        self, request: HttpRequest, form: AlertRuleAdminForm, change: bool, row_forms
    ) -> AlertRule:
        return alert_rule_save(
            by=admin_actor(request),
            rule=AlertRule.objects.get(pk=form.instance.pk) if change else None,
            data={f: form.cleaned_data[f] for f in RULE_FIELDS if f in form.cleaned_data},
            responses=[response_form.response_spec() for response_form in row_forms],
        )

    def delete_model(self, request: HttpRequest, obj: AlertRule) -> None:
        alert_rule_delete(by=admin_actor(request), rule=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        by = admin_actor(request)
        for rule in queryset:
            alert_rule_delete(by=by, rule=rule)

    # --- The rule tester ---------------------------------------------------------------------------

    def get_urls(self):
        own = [
            path("test/", self.admin_site.admin_view(self.tester_view), name="alerts_alertrule_test"),
        ]
        return own + super().get_urls()

    def tester_view(self, request: HttpRequest):
        return rule_tester_view(self, request)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "tester_url": reverse("admin:alerts_alertrule_test")}
        return super().changelist_view(request, extra_context)
