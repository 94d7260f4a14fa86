"""Actions: the list with usage statistics, the page with ordered steps (saved as a whole through
action_save), the template gallery, and the form that requests a run."""

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from actions.admin.base import CSS, risk_badge
from actions.choices import Risk
from actions.forms.catalog import (
    ActionAdminForm,
    ActionStepForm,
    ActionStepFormSet,
    UseTemplateForm,
    target_choices,
)
from actions.forms.runs import ChooseActionForm, RunActionForm, parameter_field_name
from actions.models import Action, ActionStep
from actions.models.run import RUN_PERMISSION
from actions.selectors import action_list_with_stats, action_success_rate
from actions.services import action_create_from_template, action_delete, action_run_request, action_save
from actions.services.catalog import ACTION_FIELDS
from actions.template_library import template_get, template_list
from common.actor import Actor
from common.admin.deletes import ServiceDeleteMixin
from common.admin.services import (
    ServiceRowsInlineMixin,
    ServiceRowsSaveMixin,
    ServiceSaveMixin,
    admin_actor,
    error_dict,
)
from common.exceptions import ApplicationError
from common.formatting import duration_precise
from incidents.models import Incident


class ActionStepInline(ServiceRowsInlineMixin, admin.StackedInline):
    model = ActionStep
    form = ActionStepForm
    formset = ActionStepFormSet
    extra = 0
    ordering = ("order", "id")
    verbose_name = "step"
    verbose_name_plural = "Steps (run in order)"
    classes = ("action-steps",)
    autocomplete_fields = ()
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("order", "name"),
                    "command",
                    ("target_kind", "provider", "provider_group", "target_parameter"),
                    ("condition", "failure_policy"),
                    ("timeout_seconds", "retries", "retry_delay_seconds"),
                )
            },
        ),
    )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("provider", "provider_group")

    def get_extra(self, request: HttpRequest, obj: Action | None = None, **kwargs) -> int:
        return 1 if obj is None else 0


@admin.register(Action)
class ActionAdmin(ServiceDeleteMixin, ServiceRowsSaveMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ActionAdminForm
    inlines = (ActionStepInline,)
    rows_formset = ActionStepFormSet
    rows_name = rows_key = "steps"
    rows_label = "Step"
    rows_refused = "The action could not be saved."
    list_display = (
        "name",
        "category",
        "risk_badge",
        "enabled",
        "runs",
        "success_rate",
        "average_duration",
        "last_run",
    )
    list_filter = ("category", "risk", "enabled")
    search_fields = ("name", "description")
    readonly_fields = ("template_key", "runs", "success_rate", "average_duration", "last_run")
    autocomplete_fields = ("services",)
    show_full_result_count = False
    list_per_page = 50
    change_list_template = "admin/actions/action/change_list.html"
    change_form_template = "admin/actions/action/change_form.html"

    class Media:
        css = {"all": CSS}

    # --- Reads -------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest):
        return action_list_with_stats().order_by(*(self.get_ordering(request) or ("name",)))

    def get_fieldsets(self, request: HttpRequest, obj: Action | None = None):
        fieldsets = [
            (None, {"fields": ("name", "description", ("category", "risk"), "enabled", "tags", "services")}),
            ("Run", {"fields": ("estimated_duration", "parameters")}),
        ]
        if obj is not None:
            fieldsets.append(
                (
                    "Usage",
                    {"fields": (("runs", "success_rate"), ("average_duration", "last_run"), "template_key")},
                )
            )
        return fieldsets

    @admin.display(description="Risk", ordering="risk")
    def risk_badge(self, obj: Action) -> str:
        return risk_badge(obj.risk)

    @admin.display(description="Runs", ordering="run_count")
    def runs(self, obj: Action) -> str:
        count = getattr(obj, "run_count", 0)
        if not count:
            return "0"
        url = reverse("admin:actions_actionrun_changelist") + f"?action__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description="Success rate")
    def success_rate(self, obj: Action) -> str:
        rate = action_success_rate(obj)
        return "-" if rate is None else f"{rate * 100:.0f} %"

    @admin.display(description="Average duration", ordering="average_duration")
    def average_duration(self, obj: Action) -> str:
        return duration_precise(getattr(obj, "average_duration", None))

    @admin.display(description="Last run", ordering="last_run_at")
    def last_run(self, obj: Action) -> str:
        return display_for_value(getattr(obj, "last_run_at", None), "-")

    # --- Writes: the action and its steps in one action_save ---------------------------------------

    def save_with_rows(self, request: HttpRequest, form: ActionAdminForm, change: bool, row_forms) -> Action:
        return action_save(
            by=admin_actor(request),
            action=form.instance if change else None,
            data={f: form.cleaned_data[f] for f in ACTION_FIELDS if f in form.cleaned_data},
            steps=[step_form.step_spec() for step_form in row_forms],
            services=form.cleaned_data.get("services"),
        )

    def delete_object(self, *, by: Actor, obj: Action) -> None:
        action_delete(by=by, action=obj)  # Refuses an action in use, with what uses it.

    # --- Extra pages: templates gallery, run an action ---------------------------------------------

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path("templates/", self.admin_site.admin_view(self.templates_view), name=f"{info}_templates"),
            path("run/", self.admin_site.admin_view(self.run_view), name=f"{info}_run"),
        ]
        return own + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "templates_url": reverse("admin:actions_action_templates")
            if self.has_add_permission(request)
            else None,
        }
        return super().changelist_view(request, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change and obj.enabled and request.user.has_perm(RUN_PERMISSION):
            context["run_url"] = reverse("admin:actions_action_run") + f"?action={obj.pk}"
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _page(self, request: HttpRequest, title: str, **context) -> dict:
        request.current_app = self.admin_site.name
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "media": self.media,
            **context,
        }

    def templates_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        templates = template_list()
        forms = {t.key: UseTemplateForm(prefix=t.key, initial={"name": t.name}) for t in templates}
        if request.method == "POST":
            template = template_get(request.POST.get("template", ""))
            if template is None:
                raise Http404("No such template.")
            form = forms[template.key] = UseTemplateForm(request.POST, prefix=template.key)
            if form.is_valid():
                try:
                    action = action_create_from_template(
                        by=admin_actor(request),
                        template_key=template.key,
                        name=form.cleaned_data["name"],
                        target=form.cleaned_data["target"],
                    )
                except ValidationError as exc:
                    _form_errors(form, error_dict(exc))
                except ApplicationError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        f"Created the action {action.name} from the {template.name} template. Review its "
                        "steps and parameter defaults, save, then run it.",
                    )
                    return HttpResponseRedirect(reverse("admin:actions_action_change", args=[action.pk]))
        cards = [
            {
                "template": t,
                "form": forms[t.key],
                "risk": risk_badge(t.risk),
                "duration": duration_precise(t.estimated_duration),
            }
            for t in templates
        ]
        context = self._page(
            request,
            "Action templates",
            cards=cards,
            providers_url=reverse("admin:actions_provider_add"),
            has_targets=len(target_choices()) > 1,
        )
        return TemplateResponse(request, "admin/actions/action/templates.html", context)

    def run_view(self, request: HttpRequest) -> HttpResponse:
        """Request a run: pick the action (unless given), fill its parameters, ask for approval or
        not. Opened from an incident (`?incident=`), the run belongs to that incident."""
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        incident = None
        if request.GET.get("incident"):
            incident = Incident.objects.filter(pk=_int(request.GET["incident"])).first()
            if incident is None:
                raise Http404("No such incident.")
        query = f"?incident={incident.pk}" if incident else ""
        action = None
        if request.GET.get("action"):
            action = Action.objects.filter(pk=_int(request.GET["action"])).prefetch_related("steps").first()
            if action is None:
                raise Http404("No such action.")
            if not action.enabled:
                messages.error(request, f"{action.name} is disabled: enable it before running it.")
                action = None

        choose_form = form = None
        if action is None:
            choose_form = ChooseActionForm(initial={"action": None})
        elif request.method == "POST":
            form = RunActionForm(request.POST, action=action)
            if form.is_valid():
                response = self._request_run(request, form, action, incident)
                if response is not None:
                    return response
        else:
            # A runbook step's "Run" link prefills the parameters (`?param_<name>=`): shown in the form,
            # checked against the action's patterns and quoted into commands like typed values.
            form = RunActionForm(action=action, initial=prefilled(request, action))

        incident_url = reverse("admin:incidents_incident_change", args=[incident.pk]) if incident else None
        context = self._page(
            request,
            f"Run {action.name}" if action else "Run an action",
            action=action,
            incident=incident,
            incident_url=incident_url,
            choose_form=choose_form,
            form=form,
            query=query,
            risk=risk_badge(action.risk) if action else None,
            high_risk=action is not None and action.risk == Risk.HIGH,
            steps=list(action.steps.all()) if action else [],
            duration=duration_precise(action.estimated_duration) if action else "",
            change_another_url=reverse("admin:actions_action_run") + query,
        )
        return TemplateResponse(request, "admin/actions/action/run.html", context)

    def _request_run(
        self, request: HttpRequest, form: RunActionForm, action: Action, incident: Incident | None
    ) -> HttpResponse | None:
        try:
            run = action_run_request(
                action=action,
                by=admin_actor(request),
                parameters=form.parameters(),
                incident=incident,
                require_approval=form.cleaned_data.get("require_approval") or False,
            )
        except ValidationError as exc:
            errors = {}
            for field, messages_ in error_dict(exc).items():
                name = (field or "").removeprefix("parameters.")
                errors[parameter_field_name(name) if field and field.startswith("parameters.") else None] = (
                    messages_
                )
            _form_errors(form, errors)
            return None
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return None
        if run.require_approval:
            messages.warning(
                request,
                f"Requested {action.name} (run #{run.pk}): it waits for an approver other than you.",
            )
        else:
            messages.success(request, f"Started {action.name} (run #{run.pk}): its output appears below.")
        return HttpResponseRedirect(reverse("admin:actions_actionrun_change", args=[run.pk]))


def prefilled(request: HttpRequest, action: Action) -> dict[str, str]:
    names = (parameter_field_name(d["name"]) for d in action.parameters)
    return {name: request.GET[name] for name in names if name in request.GET}


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404("Not a number.") from None


def _form_errors(form, errors: dict) -> None:
    for field, field_errors in errors.items():
        if field in form.fields:
            form.add_error(field, field_errors)
        else:
            label = f"{field.replace('_', ' ').capitalize()}: " if field else ""
            form.add_error(None, [label + m for m in field_errors])
