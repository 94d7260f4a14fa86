"""Scheduled reports in the admin: the parameters as form fields, the schedule as a crontab line,
a Preview page showing exactly what the email contains, and a "Send now" button. Every write goes
through analytics.services.reports; runs are read-only."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from analytics.filters import UNCLASSIFIED
from analytics.models import (
    Report,
    ReportGroupBy,
    ReportMetric,
    ReportRange,
    ReportRun,
    ReportType,
    RunStatus,
)
from analytics.services import reports as services
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from incidents.choices import RootCauseCategory, ServiceType
from incidents.models import Priority, Service

RUN_COLOURS = {RunStatus.PENDING: "#ca8a04", RunStatus.SENT: "#15803d", RunStatus.FAILED: "#b91c1c"}


def run_badge(status: str) -> str:
    return format_html(
        '<span style="color:#fff;background:{};padding:1px 6px;border-radius:8px;">{}</span>',
        RUN_COLOURS.get(status, "#6b7280"),
        RunStatus(status).label,
    )


class ReportAdminForm(forms.ModelForm):
    """The parameters JSON as fields; empty choices mean "the type's default"."""

    schedule_text = forms.CharField(
        label="Schedule",
        initial=services.DEFAULT_SCHEDULE,
        help_text="A crontab in the server's time zone: minute hour day-of-month month day-of-week. "
        "0 7 1 * * is the first of the month at 07:00.",
    )
    range = forms.ChoiceField(label="Period", choices=ReportRange.choices, required=False)
    group_by = forms.ChoiceField(
        choices=[("", "Type's default"), *ReportGroupBy.choices], required=False, label="Group by"
    )
    metrics = forms.MultipleChoiceField(
        choices=ReportMetric.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Sections to include; none ticked means the type's defaults.",
    )
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="slug", required=False
    )
    service_types = forms.MultipleChoiceField(
        choices=ServiceType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    teams = forms.CharField(required=False, help_text="Owner teams, comma-separated.")
    priorities = forms.ModelMultipleChoiceField(
        queryset=Priority.objects.order_by("code"), to_field_name="code", required=False
    )
    root_causes = forms.MultipleChoiceField(
        choices=[*RootCauseCategory.choices, (UNCLASSIFIED, "Unclassified")],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    include_drills = forms.BooleanField(required=False)
    extra_recipients_text = forms.CharField(
        label="Other addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One email address a line, besides the users above.",
    )

    class Meta:
        model = Report
        fields = ["name", "type", "enabled", "recipients"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipients"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        report = self.instance
        if report.pk:
            parameters = report.parameters or {}
            narrowing = parameters.get("filters") or {}
            self.initial.update(
                schedule_text=services.crontab_text(report.schedule) or services.DEFAULT_SCHEDULE,
                range=parameters.get("range"),
                group_by=parameters.get("group_by") or "",
                metrics=parameters.get("metrics") or [],
                services=narrowing.get("services") or [],
                service_types=narrowing.get("service_types") or [],
                teams=", ".join(narrowing.get("teams") or []),
                priorities=narrowing.get("priorities") or [],
                root_causes=narrowing.get("root_causes") or [],
                include_drills=bool(narrowing.get("include_drills")),
                extra_recipients_text="\n".join(report.extra_recipients or []),
            )
        else:
            self.initial.setdefault("range", ReportRange.PREVIOUS_MONTH)
        if getattr(self, "service_errors", None):
            for name, errors in self.service_errors.items():
                target = {"schedule": "schedule_text", "extra_recipients": "extra_recipients_text"}.get(
                    name, name
                )
                self.add_error(target if target in self.fields else None, errors)

    def clean_schedule_text(self) -> str:
        try:
            services.crontab_fields(self.cleaned_data["schedule_text"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("schedule", exc.messages)) from exc
        return " ".join(self.cleaned_data["schedule_text"].split())

    def clean_extra_recipients_text(self) -> list[str]:
        addresses = [line.strip() for line in self.cleaned_data["extra_recipients_text"].splitlines()]
        addresses = [a for a in addresses if a]
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(f"Not email addresses: {', '.join(bad)}.")
        return addresses

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        parameters = {
            "range": data.get("range") or None,
            "group_by": data.get("group_by") or None,
            "metrics": list(data.get("metrics") or []),
            "filters": {
                "services": [s.slug for s in data.get("services") or []],
                "service_types": list(data.get("service_types") or []),
                "teams": [t.strip() for t in (data.get("teams") or "").split(",") if t.strip()],
                "priorities": [p.code for p in data.get("priorities") or []],
                "root_causes": list(data.get("root_causes") or []),
                "include_drills": bool(data.get("include_drills")),
            },
        }
        return {
            "data": {
                "name": data["name"],
                "type": data["type"],
                "enabled": data.get("enabled", False),
                "parameters": {k: v for k, v in parameters.items() if v not in (None, [])},
                "extra_recipients": data.get("extra_recipients_text") or [],
            },
            "recipient_users": list(data.get("recipients") or []),
            "schedule": data["schedule_text"],
        }


class ReportRunInline(admin.TabularInline):
    model = ReportRun
    extra = 0
    can_delete = False
    fields = (
        "period_start",
        "period_end",
        "status_badge",
        "attempts",
        "finished_at",
        "recipient_count",
        "error",
    )
    readonly_fields = fields
    ordering = ("-period_start", "-id")
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Status")
    def status_badge(self, run: ReportRun) -> str:
        return run_badge(run.status)

    @admin.display(description="Recipients")
    def recipient_count(self, run: ReportRun) -> int:
        return len(run.recipients or [])


@admin.register(Report)
class ReportAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = ReportAdminForm
    list_display = ("name", "type", "period", "schedule_display", "enabled", "recipient_count", "last_run")
    list_filter = ("type", "enabled")
    list_select_related = ("schedule__crontab",)
    search_fields = ("name",)
    filter_horizontal = ("recipients",)
    inlines = [ReportRunInline]
    change_form_template = "admin/analytics/report/change_form.html"
    fieldsets = (
        (None, {"fields": ("name", "type", "enabled", "schedule_text")}),
        ("Content", {"fields": ("range", "group_by", "metrics")}),
        (
            "Filters",
            {"fields": ("services", "service_types", "teams", "priorities", "root_causes", "include_drills")},
        ),
        ("Recipients", {"fields": ("recipients", "extra_recipients_text")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        latest = ReportRun.objects.filter(report=OuterRef("pk")).order_by("-period_start", "-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                recipient_total=Count("recipients", distinct=True),
                last_period=Subquery(latest.values("period_start")[:1]),
                last_status=Subquery(latest.values("status")[:1]),
            )
        )

    @admin.display(description="Period")
    def period(self, report: Report) -> str:
        return ReportRange((report.parameters or {}).get("range", ReportRange.PREVIOUS_MONTH)).label

    @admin.display(description="Schedule")
    def schedule_display(self, report: Report) -> str:
        return format_html("<code>{}</code>", services.crontab_text(report.schedule) or "none")

    @admin.display(description="Recipients")
    def recipient_count(self, report: Report) -> int:
        return getattr(report, "recipient_total", 0) + len(report.extra_recipients or [])

    @admin.display(description="Last run")
    def last_run(self, report: Report) -> str:
        if report.last_period is None:
            return "-"
        return format_html("{} {}", report.last_period.date().isoformat(), run_badge(report.last_status))

    # --- Writes ------------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Report, form: ReportAdminForm, change: bool) -> None:
        stored = Report.objects.get(pk=obj.pk) if change else None
        with refusals({"schedule": "schedule_text", "extra_recipients": "extra_recipients_text"}):
            saved = services.report_save(by=admin_actor(request), report=stored, **form.service_arguments())
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change) -> None:
        # Recipients were set by the service; the runs inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Report) -> None:
        services.report_delete(by=admin_actor(request), report=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        for report in queryset:
            services.report_delete(by=admin_actor(request), report=report)

    # --- Preview and send now ----------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/preview/", wrap(self.preview_view), name="analytics_report_preview"),
            path(
                "<path:object_id>/preview/csv/",
                wrap(self.preview_csv_view),
                name="analytics_report_preview_csv",
            ),
            path("<path:object_id>/send-now/", wrap(self.send_now_view), name="analytics_report_send_now"),
            *super().get_urls(),
        ]

    def _report(self, request: HttpRequest, object_id: str) -> Report:
        report = self.get_object(request, unquote(object_id))
        if report is None:
            raise Http404("No such report.")
        if not self.has_view_or_change_permission(request, report):
            raise PermissionDenied
        return report

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self._report(request, object_id)
        start, end = services.report_period(report)
        rendered = services.report_render(report, (start, end))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": report,
            "title": f"Preview: {rendered.subject}",
            "rendered": rendered,
            "html": rendered.html_with_data_uris(),
            "period_start": start,
            "period_end": end,
            "recipients": services.report_recipients(report),
            "csv_url": reverse("admin:analytics_report_preview_csv", args=[report.pk]),
            "send_url": reverse("admin:analytics_report_send_now", args=[report.pk]),
            "can_send": self.has_change_permission(request, report),
        }
        return TemplateResponse(request, "analytics/admin/report_preview.html", context)

    def preview_csv_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self._report(request, object_id)
        rendered = services.report_preview(report=report)
        response = HttpResponse(rendered.csv_bytes, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{rendered.csv_name}"'
        return response

    def send_now_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        report = self._report(request, object_id)
        if not self.has_change_permission(request, report):
            raise PermissionDenied
        try:
            run, sent = services.report_send_now(report=report, by=admin_actor(request))
        except services.ReportRunningError as exc:
            messages.warning(request, exc.message)
        except services.ReportDeliveryError as exc:
            messages.error(request, exc.message)
        else:
            if sent:
                messages.success(request, f"Sent to {len(run.recipients)} recipient(s) for {run}.")
            else:
                messages.info(request, f"Already sent for this period ({run}); nothing sent again.")
        return HttpResponseRedirect(reverse("admin:analytics_report_change", args=[report.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "preview_url": reverse("admin:analytics_report_preview", args=[object_id]),
            "send_url": reverse("admin:analytics_report_send_now", args=[object_id]),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    """Each send of each report: read-only, the record of what went out."""

    list_display = ("report", "period_start", "period_end", "status_badge", "attempts", "finished_at")
    list_filter = ("status", "report")
    list_select_related = ("report",)
    date_hierarchy = "period_start"
    readonly_fields = [f.name for f in ReportRun._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run: ReportRun) -> str:
        return run_badge(run.status)


__all__ = ["ReportAdmin", "ReportRunAdmin", "ReportType"]
