"""Escalation policies: the steps inline (saved with the policy as a whole through policy_save, a
refused step shown on its row), and the services and alert rules that page through the policy."""

from django.contrib import admin
from django.http import HttpRequest

from common.actor import Actor
from common.admin.deletes import ServiceDeleteMixin
from common.admin.services import ServiceRowsInlineMixin, ServiceRowsSaveMixin, ServiceSaveMixin, admin_actor
from oncall import config_selectors as selectors
from oncall.admin.forms import PolicyAdminForm, StepAdminForm, StepFormSet
from oncall.models import EscalationPolicy, EscalationStep
from oncall.services.policies import POLICY_FIELDS, policy_delete, policy_save


class StepInline(ServiceRowsInlineMixin, admin.TabularInline):
    model = EscalationStep
    form = StepAdminForm
    formset = StepFormSet
    extra = 0
    verbose_name = "step"
    verbose_name_plural = "Steps (each after its delay, in order; the first at once)"
    filter_horizontal = ()
    autocomplete_fields = ("users", "schedules", "channels")

    def get_queryset(self, request: HttpRequest):
        return selectors.step_list()

    def get_extra(self, request: HttpRequest, obj: EscalationPolicy | None = None, **kwargs) -> int:
        return 1 if obj is None else 0

    @admin.display(description="Order")
    def order(self, obj: EscalationStep) -> int:
        """Shown instead of the form's field to those who may only view the policy."""
        return obj.position + 1


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(ServiceDeleteMixin, ServiceRowsSaveMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = PolicyAdminForm
    inlines = (StepInline,)
    rows_formset = StepFormSet
    rows_name = rows_key = "steps"
    rows_label = "Step"
    rows_refused = "The policy could not be saved."
    list_display = (
        "name",
        "page_threshold",
        "notify_threshold",
        "repeat_count",
        "step_summary",
        "service_names",
    )
    search_fields = ("name", "description")
    show_full_result_count = False

    def get_fieldsets(self, request: HttpRequest, obj: EscalationPolicy | None = None):
        # Declared here, not as `fieldsets`: the admin's check refuses through-model relations
        # there, and these are the form's own fields (policy_save writes the links).
        return (
            (None, {"fields": ("name", "description")}),
            (
                "Which incidents",
                {"fields": (("page_threshold", "notify_threshold"), "services", "alert_rules")},
            ),
            ("Repeat", {"fields": ("repeat_count",)}),
        )

    def get_queryset(self, request: HttpRequest):
        return selectors.policy_list_with_links().order_by(*(self.get_ordering(request) or ("name",)))

    @admin.display(description="Steps")
    def step_summary(self, obj: EscalationPolicy) -> str:
        parts = []
        for step in obj.steps.all():
            targets = [u.get_username() for u in step.users.all()]
            targets += [f"on call: {s.name}" for s in step.schedules.all()]
            targets += [f"#{c.name}" for c in step.channels.all()]
            parts.append(f"+{step.delay_minutes} min: {', '.join(targets) or '-'}")
        return " → ".join(parts) or "-"

    @admin.display(description="Services")
    def service_names(self, obj: EscalationPolicy) -> str:
        return ", ".join(link.service.name for link in obj.service_links.all()) or "-"

    def save_with_rows(
        self, request: HttpRequest, form: PolicyAdminForm, change: bool, row_forms
    ) -> EscalationPolicy:
        data = form.cleaned_data
        return policy_save(
            by=admin_actor(request),
            policy=form.instance if change else None,
            steps=[row.step_spec() for row in row_forms],
            services=list(data.get("services") or []),
            alert_rules=list(data.get("alert_rules") or []),
            **{name: data[name] for name in POLICY_FIELDS if name in data},
        )

    def delete_object(self, *, by: Actor, obj: EscalationPolicy) -> None:
        policy_delete(by=by, policy=obj)
