"""What the incident page shows of actions: the incident's runs, and a "Run action" button."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from actions.admin.base import run_status_badge
from actions.admin.runs import requester
from actions.models import ActionRun
from actions.models.run import RUN_PERMISSION
from common.formatting import duration_precise
from incidents.choices import IncidentStatus
from incidents.models import Incident


class IncidentActionRunInline(admin.TabularInline):
    """The incident's action runs, newest first, each linking to its page with the output."""

    model = ActionRun
    fk_name = "incident"
    verbose_name = "action run"
    verbose_name_plural = "Action runs"
    fields = ("run", "action_name", "status_badge", "requested", "created", "took")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0
    can_delete = False
    show_change_link = False
    classes = ("incident-readonly-rows", "incident-action-runs")

    class Media:
        css = {"all": ("actions/admin.css",)}

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("action", "requested_by")

    def has_add_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    @admin.display(description="Run")
    def run(self, obj: ActionRun) -> str:
        url = reverse("admin:actions_actionrun_change", args=[obj.pk])
        return format_html('<a href="{}">#{}</a>', url, obj.pk)

    @admin.display(description="Action")
    def action_name(self, obj: ActionRun) -> str:
        # A state capture taken when the incident opened; its output is in the Snapshot panel.
        return f"{obj.action.name} (state capture)" if obj.capture_service_id else obj.action.name

    @admin.display(description="Status")
    def status_badge(self, obj: ActionRun) -> str:
        return run_status_badge(obj.status)

    @admin.display(description="Requested by")
    def requested(self, obj: ActionRun) -> str:
        return requester(obj)

    @admin.display(description="Requested")
    def created(self, obj: ActionRun) -> str:
        return display_for_value(obj.created_at, "-")

    @admin.display(description="Duration")
    def took(self, obj: ActionRun) -> str:
        return duration_precise(obj.duration)


def incident_run_action_url(request: HttpRequest, incident: Incident) -> str | None:
    """Where the incident page's "Run action" button leads, for those who may run actions."""
    if incident.status == IncidentStatus.CLOSED or not request.user.has_perm(RUN_PERMISSION):
        return None
    return reverse("admin:actions_action_run") + f"?incident={incident.pk}"
