"""Runbooks (saved with their steps by runbook_create / runbook_update, every edit kept as a version
shown read-only with its changes) and the services' state capture actions."""

import difflib

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join

from actions.admin.base import CSS
from actions.forms.runbooks import RunbookAdminForm, RunbookStepForm, RunbookStepFormSet, ServiceCaptureForm
from actions.models import Runbook, RunbookStep, RunbookVersion, ServiceCapture
from actions.selectors import runbook_list, runbook_versions
from actions.services.capture import service_capture_delete, service_capture_save
from actions.services.runbooks import runbook_create, runbook_delete, runbook_update
from common.actor import Actor
from common.admin.deletes import ServiceDeleteMixin
from common.admin.panel import PanelInline
from common.admin.services import (
    ServiceRowsInlineMixin,
    ServiceRowsSaveMixin,
    ServiceSaveMixin,
    admin_actor,
    adopt,
    refusals,
)


class RunbookStepInline(ServiceRowsInlineMixin, admin.StackedInline):
    model = RunbookStep
    form = RunbookStepForm
    formset = RunbookStepFormSet
    extra = 0
    ordering = ("position", "id")
    verbose_name = "step"
    verbose_name_plural = "Steps (in order)"
    fields = ("order", "text", "action", "parameters")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("action")

    def get_extra(self, request: HttpRequest, obj: Runbook | None = None, **kwargs) -> int:
        return 1 if obj is None else 0


def version_text(version: RunbookVersion) -> list[str]:
    """A version as lines of text, for its diff with the one before."""
    lines = [f"# {version.title}", *version.summary.splitlines(), ""]
    for step in version.steps:
        action = f"  [Run {step['action_name']}]" if step.get("action_name") else ""
        lines.append(f"Step {step['position']}:{action}")
        lines += [f"  {line}" for line in str(step.get("text", "")).splitlines()]
        if step.get("parameters"):
            lines.append(f"  parameters: {step['parameters']}")
    return lines


class RunbookVersionsPanel(PanelInline):
    """Every version, newest first, with who saved it, when, and what changed from the one before."""

    model = RunbookVersion
    fk_name = "runbook"
    template = "admin/actions/runbook_versions.html"
    verbose_name = "version"
    verbose_name_plural = "Versions"
    view_permission = "actions.view_runbookversion"

    def panel_for(self, request: HttpRequest, runbook: Runbook) -> list[dict]:
        versions = list(runbook_versions(runbook_id=runbook.pk))
        rows = []
        for version, older in zip(versions, [*versions[1:], None], strict=True):
            text = version_text(version)
            diff = difflib.unified_diff(version_text(older) if older else [], text, lineterm="", n=2)
            rows.append({"version": version, "text": "\n".join(text), "diff": "\n".join(list(diff)[2:])})
        return rows


@admin.register(Runbook)
class RunbookAdmin(ServiceDeleteMixin, ServiceRowsSaveMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = RunbookAdminForm
    inlines = (RunbookStepInline, RunbookVersionsPanel)
    rows_formset = RunbookStepFormSet
    rows_name = rows_key = "steps"
    rows_label = "Step"
    rows_refused = "The runbook could not be saved."
    list_display = ("title", "service", "step_count", "version", "updated_by", "updated_at")
    list_select_related = ("service", "updated_by")
    list_filter = ("service",)
    search_fields = ("title", "summary", "steps__text")
    autocomplete_fields = ("service",)
    readonly_fields = ("version", "updated_by", "updated_at")
    show_full_result_count = False

    class Media:
        css = {"all": CSS}

    def get_queryset(self, request: HttpRequest):
        return runbook_list().order_by(*(self.get_ordering(request) or ("title", "id")))

    def get_fields(self, request: HttpRequest, obj: Runbook | None = None):
        own = ["title", "service", "summary"]
        return [*own, "version", "updated_by", "updated_at"] if obj else own

    @admin.display(description="Steps")
    def step_count(self, obj: Runbook) -> int:
        return len(obj.steps.all())

    def get_inlines(self, request: HttpRequest, obj: Runbook | None):
        return self.inlines if obj is not None else (RunbookStepInline,)

    def save_with_rows(
        self, request: HttpRequest, form: RunbookAdminForm, change: bool, row_forms
    ) -> Runbook:
        fields = {f: form.cleaned_data.get(f) for f in ("title", "service", "summary")}
        steps = [row_form.step_spec() for row_form in row_forms]
        if change:
            return runbook_update(by=admin_actor(request), runbook=form.instance, steps=steps, **fields)
        return runbook_create(by=admin_actor(request), steps=steps, **fields)

    def delete_object(self, *, by: Actor, obj: Runbook) -> None:
        runbook_delete(by=by, runbook=obj)


@admin.register(ServiceCapture)
class ServiceCaptureAdmin(ServiceSaveMixin, admin.ModelAdmin):
    """Which action captures each service's state when its incidents open."""

    form = ServiceCaptureForm
    list_display = ("service", "action", "parameters_text", "enabled")
    list_select_related = ("service", "action")
    list_filter = ("enabled",)
    search_fields = ("service__name", "action__name")
    autocomplete_fields = ("service",)
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: ServiceCapture | None = None):
        return ("service",) if obj is not None else ()

    @admin.display(description="Parameters")
    def parameters_text(self, obj: ServiceCapture) -> str:
        pairs = sorted(obj.parameters.items())
        return format_html_join(", ", "{}={}", pairs) if pairs else "-"

    def save_model(
        self, request: HttpRequest, obj: ServiceCapture, form: ServiceCaptureForm, change: bool
    ) -> None:
        data = form.cleaned_data
        with refusals():
            saved = service_capture_save(
                by=admin_actor(request),
                service=obj.service if change else data["service"],
                action=data.get("action"),
                parameters=data.get("parameters") or {},
                enabled=data.get("enabled", True),
            )
        adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: ServiceCapture) -> None:
        service_capture_delete(by=admin_actor(request), capture=obj)


__all__ = ["RunbookAdmin", "ServiceCaptureAdmin"]
