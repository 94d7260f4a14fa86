from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from common.exceptions import ApplicationError
from drills.models import DrillScenario
from drills.selectors import drill_scenario_list
from drills.services import drill_run_start, drill_scenario_delete, drill_scenario_save
from drills.services.runs import START_PERMISSION
from drills.services.scenarios import SCENARIO_FIELDS


class DrillScenarioForm(forms.ModelForm):
    class Meta:
        model = DrillScenario
        fields = [*SCENARIO_FIELDS, "services"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, errors in (getattr(self, "service_errors", None) or {}).items():
            self.add_error(name if name in self.fields else None, errors)


@admin.register(DrillScenario)
class DrillScenarioAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = DrillScenarioForm
    list_display = ("name", "kind", "start_mode", "source", "injection_action", "cleanup_action", "enabled")
    list_filter = ("kind", "start_mode", "enabled")
    list_select_related = ("source", "injection_action", "cleanup_action")
    search_fields = ("name", "description")
    autocomplete_fields = ("injection_action", "cleanup_action", "services")
    change_form_template = "admin/drills/drillscenario/change_form.html"
    fieldsets = (
        (None, {"fields": ("name", "kind", "enabled", "description", "simulated", "expected_response")}),
        ("How it starts", {"fields": ("start_mode", "source", "alert_labels", "alert_annotations")}),
        ("Incident opened directly", {"fields": ("priority", "services")}),
        (
            "Actions",
            {
                "fields": (
                    ("injection_action", "injection_parameters"),
                    ("cleanup_action", "cleanup_parameters"),
                )
            },
        ),
    )

    def get_queryset(self, request: HttpRequest):
        return drill_scenario_list()

    def save_model(self, request: HttpRequest, obj: DrillScenario, form, change: bool) -> None:
        stored = DrillScenario.objects.get(pk=obj.pk) if change else None
        data = {name: form.cleaned_data[name] for name in SCENARIO_FIELDS if name in form.cleaned_data}
        with refusals():
            saved = drill_scenario_save(
                by=admin_actor(request),
                scenario=stored,
                data=data,
                services=list(form.cleaned_data.get("services") or []),
            )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change) -> None:
        pass  # The service set the services.

    def delete_model(self, request: HttpRequest, obj: DrillScenario) -> None:
        drill_scenario_delete(by=admin_actor(request), scenario=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for scenario in queryset:
            drill_scenario_delete(by=admin_actor(request), scenario=scenario)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/start/",
                self.admin_site.admin_view(self.start_view),
                name="drills_drillscenario_start",
            ),
            *super().get_urls(),
        ]

    def start_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        scenario = self.get_object(request, unquote(object_id))
        if scenario is None:
            raise Http404("No such scenario.")
        if not request.user.has_perm(START_PERMISSION):
            raise PermissionDenied
        try:
            run = drill_run_start(scenario=scenario, by=admin_actor(request), participants=[request.user])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Drill #{run.pk} started.")
            return HttpResponseRedirect(reverse("admin:drills_drillrun_change", args=[run.pk]))
        return HttpResponseRedirect(reverse("admin:drills_drillscenario_change", args=[scenario.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "start_url": reverse("admin:drills_drillscenario_start", args=[object_id]),
            "can_start": request.user.has_perm(START_PERMISSION),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)
