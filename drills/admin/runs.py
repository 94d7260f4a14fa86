from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from common.admin.services import admin_actor
from common.exceptions import ApplicationError
from drills.admin.display import incident_link, status_badge, timings_table
from drills.choices import DrillStatus
from drills.markdown import TIMING_LABELS, duration_text
from drills.models import DrillRun
from drills.selectors import drill_incident, drill_run_list, drill_timings
from drills.services import drill_run_cancel
from drills.services.runs import CHANGE_PERMISSION

AWAITING_REFRESH_SECONDS = 5


@admin.register(DrillRun)
class DrillRunAdmin(admin.ModelAdmin):
    """Runs are started from a scenario's page and end when their incident resolves; the only
    change here is the Cancel button."""

    list_display = ("drill", "scenario", "status_display", "incident_display", "started_at", *TIMING_LABELS)
    list_filter = ("status", "scenario")
    date_hierarchy = "started_at"
    search_fields = ("scenario__name", "incident__reference")
    show_full_result_count = False
    change_form_template = "admin/drills/drillrun/change_form.html"
    fields = (
        "scenario",
        "status_display",
        "incident_display",
        "alert",
        "started_by",
        "started_at",
        "ended_by",
        "ended_at",
        "cancel_reason",
        "participants",
        "injection_run",
        "cleanup_run",
        "timings",
        "report_link",
        "notes",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        return drill_run_list().select_related("ended_by", "cleanup_run").prefetch_related("participants")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DrillRun | None = None) -> bool:
        return False  # A drill's record, like an incident's.

    @admin.display(description="Drill", ordering="id")
    def drill(self, run: DrillRun) -> str:
        return f"#{run.pk}"

    @admin.display(description="Status", ordering="status")
    def status_display(self, run: DrillRun) -> str:
        return status_badge(run.status)

    @admin.display(description="Incident")
    def incident_display(self, run: DrillRun) -> str:
        return incident_link(run)

    @admin.display(description="Timings")
    def timings(self, run: DrillRun) -> str:
        return timings_table(run)

    @admin.display(description="Report")
    def report_link(self, run: DrillRun) -> str:
        report = getattr(run, "report", None)
        if report is None:
            return "written when the drill ends"
        return format_html(
            '<a href="{}">Report</a>', reverse("admin:drills_drillreport_change", args=[report.pk])
        )

    def _timing(self, run: DrillRun, name: str) -> str:
        return duration_text(getattr(drill_timings(run), name))

    @admin.display(description=TIMING_LABELS["detect"])
    def detect(self, run: DrillRun) -> str:
        return self._timing(run, "detect")

    @admin.display(description=TIMING_LABELS["acknowledge"])
    def acknowledge(self, run: DrillRun) -> str:
        return self._timing(run, "acknowledge")

    @admin.display(description=TIMING_LABELS["first_action"])
    def first_action(self, run: DrillRun) -> str:
        return self._timing(run, "first_action")

    @admin.display(description=TIMING_LABELS["resolve"])
    def resolve(self, run: DrillRun) -> str:
        return self._timing(run, "resolve")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="drills_drillrun_cancel",
            ),
            *super().get_urls(),
        ]

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        run = self.get_object(request, unquote(object_id))
        if run is None:
            raise Http404("No such drill.")
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        try:
            drill_run_cancel(run=run, by=admin_actor(request), reason=request.POST.get("reason", ""))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Drill #{run.pk} cancelled; its cleanup runs.")
        return HttpResponseRedirect(reverse("admin:drills_drillrun_change", args=[run.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, unquote(object_id))
        extra = {
            # A synthetic alert's incident opens when the worker has processed it: until then the
            # page reloads itself, so the responder sees it appear.
            "awaiting_incident": run is not None
            and run.status == DrillStatus.RUNNING
            and drill_incident(run) is None,
            "refresh_seconds": AWAITING_REFRESH_SECONDS,
            "cancel_url": reverse("admin:drills_drillrun_cancel", args=[object_id]),
            "can_cancel": run is not None
            and run.status == DrillStatus.RUNNING
            and request.user.has_perm(CHANGE_PERMISSION),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)
