"""Alert rules with their automated responses, saved as a whole through alert_rule_save, and the
link to the rule tester."""

from django.contrib import admin
from django.core.exceptions import ValidationError
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
    ServiceRefusedError,
    ServiceRowsInlineMixin,
    ServiceSaveMixin,
    admin_actor,
    adopt,
    error_dict,
)
from common.exceptions import ApplicationError


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
class AlertRuleAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = AlertRuleAdminForm
    inlines = (AutomatedResponseInline,)
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
        ("What happens", {"fields": ("service", "priority", "incident_policy", "group_by")}),
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

    def save_model(
        self, request: HttpRequest, obj: AlertRule, form: AlertRuleAdminForm, change: bool
    ) -> None:
        """Nothing yet: save_related saves the rule with its responses, as one alert_rule_save call."""

    def save_related(self, request: HttpRequest, form: AlertRuleAdminForm, formsets, change: bool) -> None:
        [responses_formset] = [f for f in formsets if isinstance(f, AutomatedResponseFormSet)]
        rows = responses_formset.submitted_rows()
        data = {f: form.cleaned_data[f] for f in RULE_FIELDS if f in form.cleaned_data}
        stored = AlertRule.objects.get(pk=form.instance.pk) if change else None
        try:
            saved = alert_rule_save(
                by=admin_actor(request),
                rule=stored,
                data=data,
                responses=[response_form.response_spec() for _, response_form in rows],
            )
        except ValidationError as exc:
            raise _response_refusal(error_dict(exc), [index for index, _ in rows]) from exc
        except ApplicationError as exc:
            raise ServiceRefusedError({None: [exc.message]}) from exc
        adopt(form.instance, saved)
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        responses_changed = any(
            f.has_changed() or (formset.can_delete and formset._should_delete_form(f))
            for formset in formsets
            for f in formset.forms
        )
        if not add and responses_changed:
            message.append({"changed": {"fields": ["automated responses"]}})
        return message

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


def _response_refusal(errors: dict[str | None, list[str]], form_indexes: list[int]) -> ServiceRefusedError:
    """Sort alert_rule_save's errors: `responses.<n>.<field>` to the n-th submitted response's row,
    `responses` to the inline as a whole, the rest to the rule's form."""
    main: dict[str | None, list[str]] = {}
    by_form: dict[int, dict[str | None, list[str]]] = {}
    whole: list[str] = []
    for key, messages_ in errors.items():
        parts = (key or "").split(".")
        if parts[0] == "responses" and len(parts) >= 2 and parts[1].isdigit():
            position = int(parts[1]) - 1
            field = parts[2] if len(parts) > 2 else None
            if 0 <= position < len(form_indexes):
                by_form.setdefault(form_indexes[position], {}).setdefault(field, []).extend(messages_)
                continue
            whole.extend(f"Response {parts[1]}: {m}" for m in messages_)
            continue
        if key == "responses":
            whole.extend(messages_)
            continue
        main.setdefault(key, []).extend(messages_)
    if not main and not by_form and not whole:
        main[None] = ["The rule could not be saved."]
    return ServiceRefusedError(main, step_errors=by_form, formset_errors=whole)
