from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from drills.admin.display import incident_link, status_badge, timings_table
from drills.markdown import report_filename, report_markdown
from drills.models import DrillReport
from drills.selectors import drill_report_list, drill_responders
from drills.services import drill_report_update
from drills.services.runs import REPORT_FIELDS


class DrillReportForm(forms.ModelForm):
    class Meta:
        model = DrillReport
        fields = list(REPORT_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, errors in (getattr(self, "service_errors", None) or {}).items():
            self.add_error(name if name in self.fields else None, errors)


@admin.register(DrillReport)
class DrillReportAdmin(ServiceSaveMixin, admin.ModelAdmin):
    """Written when a drill ends; the people who ran it add observations, a score and what to improve."""

    form = DrillReportForm
    list_display = ("__str__", "scenario", "kind", "status", "started_at", "score")
    list_filter = ("run__scenario__kind", "score")
    search_fields = ("run__scenario__name", "observations", "improvements")
    show_full_result_count = False
    change_form_template = "admin/drills/drillreport/change_form.html"
    readonly_fields = ("run_link", "scenario", "kind", "status", "incident", "timings", "responders")
    fieldsets = (
        (None, {"fields": ("run_link", "scenario", "kind", "status", "incident")}),
        ("From the record", {"fields": ("timings", "responders")}),
        ("Review", {"fields": REPORT_FIELDS}),
    )

    def get_queryset(self, request: HttpRequest):
        return drill_report_list()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Drill")
    def run_link(self, report: DrillReport) -> str:
        url = reverse("admin:drills_drillrun_change", args=[report.run_id])
        return format_html('<a href="{}">#{}</a>', url, report.run_id)

    @admin.display(description="Scenario")
    def scenario(self, report: DrillReport) -> str:
        return report.run.scenario.name

    @admin.display(description="Type")
    def kind(self, report: DrillReport) -> str:
        return report.run.scenario.get_kind_display()

    @admin.display(description="Status")
    def status(self, report: DrillReport) -> str:
        return status_badge(report.run.status)

    @admin.display(description="Started")
    def started_at(self, report: DrillReport):
        return report.run.started_at

    @admin.display(description="Incident")
    def incident(self, report: DrillReport) -> str:
        return incident_link(report.run)

    @admin.display(description="Timings")
    def timings(self, report: DrillReport) -> str:
        return timings_table(report.run)

    @admin.display(description="Who responded")
    def responders(self, report: DrillReport) -> str:
        people = drill_responders(report.run)
        if not people:
            return "Nobody on the record."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{}{}</li>", ((p.name, f" ({', '.join(p.roles)})" if p.roles else "") for p in people)
            ),
        )

    def save_model(self, request: HttpRequest, obj: DrillReport, form, change: bool) -> None:
        stored = DrillReport.objects.get(pk=obj.pk)
        with refusals():
            saved = drill_report_update(
                by=admin_actor(request), report=stored, data={f: form.cleaned_data[f] for f in REPORT_FIELDS}
            )
        adopt(obj, saved)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/markdown/",
                self.admin_site.admin_view(self.markdown_view),
                name="drills_drillreport_markdown",
            ),
            *super().get_urls(),
        ]

    def markdown_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self.get_object(request, unquote(object_id))
        if report is None:
            raise Http404("No such report.")
        if not self.has_view_or_change_permission(request, report):
            raise PermissionDenied
        response = HttpResponse(report_markdown(report), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(report)}"'
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "markdown_url": reverse("admin:drills_drillreport_markdown", args=[object_id]),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)
