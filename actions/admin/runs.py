"""Action runs: the list, the read-only run page with every step's output (refreshing itself while
the run is under way), and the Approve / Reject / Cancel buttons that call the run services."""

from itertools import groupby

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django_fsm import can_proceed

from actions.admin.base import CSS, run_status_badge, step_status_badge
from actions.choices import RunStatus, StepCondition
from actions.forms.runs import DecisionForm
from actions.models import ActionRun, StepRun
from actions.models.run import APPROVE_PERMISSION, RUN_PERMISSION
from actions.selectors import action_run_detail_queryset, action_run_list
from actions.services import action_run_approve, action_run_cancel, action_run_reject
from actions.services.snapshot import LEGACY_ERROR, PlannedStep
from common.admin.services import admin_actor
from common.admin.transition import Transition, TransitionPageMixin
from common.formatting import duration_precise

# While a run is in one of these, its page refreshes itself every REFRESH_SECONDS.
LIVE_STATUSES = (RunStatus.PENDING, RunStatus.APPROVED, RunStatus.SCHEDULED, RunStatus.RUNNING)
REFRESH_SECONDS = 2


DECISIONS = {
    d.name: d
    for d in (
        Transition(
            "approve",
            "Approve",
            "approved: it starts in a moment",
            "Lets the run go ahead. Four eyes: the person who requested it cannot approve it.",
            APPROVE_PERMISSION,
        ),
        Transition(
            "reject",
            "Reject",
            "rejected",
            "Refuses the run: it never starts.",
            APPROVE_PERMISSION,
            needs_input=True,  # Asks why; approve and cancel are one click (a POST form each).
            danger=True,
        ),
        Transition(
            "cancel",
            "Cancel run",
            "cancelled",
            "Stops the run. One that has not started never does; a running one has its command killed "
            "and its remaining steps skipped.",
            RUN_PERMISSION,
            danger=True,
        ),
    )
}
SERVICES = {"approve": action_run_approve, "reject": action_run_reject, "cancel": action_run_cancel}


def requester(run: ActionRun) -> str:
    if run.requested_by_id:
        return run.requested_by.get_username()
    return run.requested_label or "system"


@admin.register(ActionRun)
class ActionRunAdmin(TransitionPageMixin, admin.ModelAdmin):
    list_display = ("run", "action", "status_badge", "incident_link", "requested", "created_at", "took")
    list_display_links = ("run",)
    list_filter = ("status", "requested_via", "action", ("capture_service", admin.EmptyFieldListFilter))
    search_fields = ("action__name", "incident__reference")
    list_select_related = ("action", "incident", "requested_by")
    show_full_result_count = False
    list_per_page = 50
    actions = None
    transitions = DECISIONS
    transition_path = "decide"
    transition_back_label = "Back"
    change_form_template = "admin/actions/actionrun/change_form.html"
    readonly_fields = (
        "action_link",
        "status_badge",
        "incident_link",
        "parameter_list",
        "requested",
        "requested_via",
        "require_approval",
        "error",
        "approval_expires_at",
        "decided_by",
        "decided_at",
        "decision_comment",
        "created_at",
        "due_at",
        "started_at",
        "finished_at",
        "took",
    )

    class Media:
        css = {"all": CSS}

    # --- Reads -------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest):
        return action_run_list().order_by(*(self.get_ordering(request) or ActionRun._meta.ordering))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        try:
            return action_run_detail_queryset().get(pk=int(object_id))
        except (ActionRun.DoesNotExist, ValueError):
            return None

    def get_fieldsets(self, request: HttpRequest, obj: ActionRun | None = None):
        main = [
            ("action_link", "status_badge", "took"),
            "incident_link",
            "parameter_list",
            ("requested", "requested_via", "created_at"),
        ]
        if obj is not None and obj.error:
            main.append("error")
        fieldsets = [(None, {"fields": main})]
        if obj is None or obj.require_approval:
            fieldsets.append(
                (
                    "Approval",
                    {"fields": (("approval_expires_at", "decided_by", "decided_at"), "decision_comment")},
                )
            )
        fieldsets.append(
            ("Clock", {"fields": (("due_at", "started_at", "finished_at"),), "classes": ("collapse",)})
        )
        return fieldsets

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Runs are requested from an action or an incident.

    def has_change_permission(self, request: HttpRequest, obj: ActionRun | None = None) -> bool:
        return False  # A run is a record; it changes only through the buttons.

    def has_delete_permission(self, request: HttpRequest, obj: ActionRun | None = None) -> bool:
        return False  # Runs are part of the audit trail.

    @admin.display(description="Run", ordering="id")
    def run(self, obj: ActionRun) -> str:
        return f"#{obj.pk}"

    @admin.display(description="Action")
    def action_link(self, obj: ActionRun) -> str:
        url = reverse("admin:actions_action_change", args=[obj.action_id])
        return format_html('<a href="{}">{}</a>', url, obj.action.name)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: ActionRun) -> str:
        badge = run_status_badge(obj.status)
        if obj.status == RunStatus.RUNNING and obj.cancel_requested_at:
            return format_html('{} <span class="quiet">cancelling…</span>', badge)
        return badge

    @admin.display(description="Incident", ordering="incident__reference")
    def incident_link(self, obj: ActionRun) -> str:
        if obj.incident_id is None:
            return "-"
        url = reverse("admin:incidents_incident_change", args=[obj.incident_id])
        return format_html('<a href="{}">{}</a>', url, obj.incident.reference)

    @admin.display(description="Requested by")
    def requested(self, obj: ActionRun) -> str:
        return requester(obj)

    @admin.display(description="Duration")
    def took(self, obj: ActionRun) -> str:
        return duration_precise(obj.duration)

    @admin.display(description="Parameters")
    def parameter_list(self, obj: ActionRun) -> str:
        if not obj.parameters:
            return "-"
        rows = format_html_join(
            "", "<li><code>{}</code> = <code>{}</code></li>", sorted(obj.parameters.items())
        )
        return format_html('<ul class="run-parameters">{}</ul>', rows)

    # --- The run page ------------------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                run_live=obj.status in LIVE_STATUSES,
                refresh_seconds=REFRESH_SECONDS,
                run_status_badge=run_status_badge(obj.status),
                run_buttons=self.decision_buttons(request, obj),
                own_request_note=(
                    obj.status == RunStatus.AWAITING_APPROVAL
                    and obj.requested_by_id == request.user.pk
                    and request.user.has_perm(APPROVE_PERMISSION)
                ),
                step_groups=step_groups(obj),
                snapshot_missing=LEGACY_ERROR if not obj.snapshot else "",
                approval_reasons=(obj.snapshot or {}).get("approval", {}).get("reasons", []),
                output_cap_kib=settings.ACTION_OUTPUT_CAP_BYTES // 1024,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def decision_buttons(self, request: HttpRequest, run: ActionRun) -> list[dict]:
        buttons = []
        for name, decision in DECISIONS.items():
            if not request.user.has_perm(decision.permission):
                continue
            if not can_proceed(getattr(run, name)):
                continue
            if name == "cancel" and run.cancel_requested_at:
                continue  # Already being cancelled.
            buttons.append(
                {
                    "name": name,
                    "label": decision.label,
                    "url": self.transition_url(run, name),
                    "needs_input": decision.needs_input,
                    "danger": decision.danger,
                }
            )
        return buttons

    # --- Approve, reject, cancel: the transition page ------------------------------------------------

    def transition_subject(self, run: ActionRun) -> str:
        return f"Run #{run.pk}"

    def transition_closed_message(self, request: HttpRequest, run: ActionRun, transition: Transition) -> str:
        return f"Run #{run.pk} is {run.get_status_display().lower()}: nothing to {transition.name}."

    def transition_form(self, run: ActionRun, transition: Transition, **kwargs) -> DecisionForm:
        return DecisionForm(decision=transition.name, **kwargs)

    def transition_call(
        self, request: HttpRequest, run: ActionRun, transition: Transition, form: DecisionForm
    ) -> ActionRun:
        by = admin_actor(request)
        if transition.name == "cancel":
            return action_run_cancel(run=run, by=by)
        return SERVICES[transition.name](run=run, by=by, comment=form.cleaned_data.get("comment", ""))

    def transition_done(self, request: HttpRequest, run: ActionRun, transition: Transition, result) -> None:
        if transition.name == "cancel" and result.status == RunStatus.RUNNING:
            messages.warning(request, f"Cancelling run #{run.pk}: its command is being stopped.")
        else:
            messages.success(request, f"Run #{run.pk} of {run.action.name} was {transition.done}.")

    def transition_page(self, request: HttpRequest, run: ActionRun, transition: Transition) -> dict:
        incident = ""
        if run.incident_id:
            url = reverse("admin:incidents_incident_change", args=[run.incident_id])
            incident = format_html(' for <a href="{}">{}</a>', url, run.incident.reference)
        return {
            "title": f"{transition.label}: run #{run.pk} of {run.action.name}",
            "crumb": f"Run #{run.pk}",
            "summary": format_html(
                "{} <strong>{}</strong> · run #{}, requested by {}{}.",
                run_status_badge(run.status),
                run.action.name,
                run.pk,
                requester(run),
                incident,
            ),
            "details_template": "admin/actions/actionrun/_snapshot.html",
            "run": run,
            "planned": [planned_group(step) for step in planned_steps(run)],
            "snapshot_missing": LEGACY_ERROR if not run.snapshot else "",
            "approval_reasons": (run.snapshot or {}).get("approval", {}).get("reasons", []),
        }


def step_groups(run: ActionRun) -> list[dict]:
    """The run's step runs grouped by step (a group step has one per host), in run order; while the
    run waits or is under way, the steps of its snapshot not reached yet follow as 'not started':
    exactly what would run, whatever the action says now."""
    step_runs: list[StepRun] = list(run.step_runs.all())
    groups = []
    for order, rows in groupby(step_runs, key=lambda s: s.step_order):
        rows = list(rows)
        groups.append(
            {
                "order": order,
                "name": rows[0].step_name,
                "rows": [
                    {
                        "step_run": s,
                        "badge": step_status_badge(s.status),
                        "duration": duration_precise(s.duration),
                        "live": s.status == "running",
                    }
                    for s in rows
                ],
            }
        )
    if run.status in (*LIVE_STATUSES, RunStatus.AWAITING_APPROVAL):
        reached = max((s.step_order for s in step_runs), default=-1)
        groups += [planned_group(step) for step in planned_steps(run) if step.order > reached]
    return groups


def planned_steps(run: ActionRun) -> list[PlannedStep]:
    return [PlannedStep.from_snapshot(data) for data in (run.snapshot or {}).get("steps", [])]


def planned_group(step: PlannedStep) -> dict:
    """A step of the snapshot as the approver reads it: where, what exactly, and how."""
    return {
        "order": step.order,
        "name": step.name,
        "rows": [],
        "pending": True,
        "target": step.target,
        "hosts": [h.host for h in step.hosts],
        "condition": step.get_condition_display() if step.condition != StepCondition.ALWAYS else "",
        "command": step.command,
        "timeout_seconds": step.timeout_seconds,
        "retries": step.retries,
        "error": step.error,
    }
