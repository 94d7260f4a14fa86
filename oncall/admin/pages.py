"""Pages (an incident's escalation) as they ran: read-only, since only the paging service and the
incident's acknowledgement move them."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from oncall import config_selectors as selectors
from oncall.choices import PageStatus
from oncall.models import Page

BADGES = {
    PageStatus.ESCALATING: "#c62828",
    PageStatus.ACKNOWLEDGED: "#2e7d32",
    PageStatus.RESOLVED: "#2e7d32",
    PageStatus.DISMISSED: "#616161",
    PageStatus.EXHAUSTED: "#e65100",
    PageStatus.NOTIFIED: "#1565c0",
}


def page_status_badge(page: Page) -> SafeString:
    return format_html(
        '<span class="page-status page-{}" style="color: {}; font-weight: bold">{}</span>',
        page.status,
        BADGES.get(page.status, "#1565c0"),
        page.get_status_display(),
    )


def page_step_label(page: Page) -> str:
    """Where the escalation stands: the next step while escalating, how far it got once ended."""
    if page.status == PageStatus.ESCALATING:
        return f"pass {page.loop + 1}, next step {page.position + 1}"
    return f"pass {page.loop + 1}, {page.position} step{'s' if page.position != 1 else ''} run"


def incident_link(page: Page) -> SafeString:
    url = reverse("admin:incidents_incident_change", args=[page.incident_id])
    return format_html('<a href="{}">{}</a> {}', url, page.incident.reference, page.incident.title)


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = (
        "incident_col",
        "status_badge",
        "mode",
        "policy",
        "step",
        "next_due",
        "ended",
        "end_source",
    )
    list_filter = ("status", "mode", "policy")
    list_select_related = ("incident", "policy", "ended_by")
    search_fields = ("incident__reference", "incident__title")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "incident_col",
        "status_badge",
        "mode",
        "policy",
        "step",
        "next_due",
        "task_id",
        "reply_code",
        "ended",
        "end_source",
        "steps_run",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        return selectors.page_list_with_steps().order_by("-created_at", "-id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Page | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Page | None = None) -> bool:
        return False

    @admin.display(description="Incident", ordering="incident__reference")
    def incident_col(self, obj: Page) -> str:
        return incident_link(obj)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Page) -> str:
        return page_status_badge(obj)

    @admin.display(description="Step")
    def step(self, obj: Page) -> str:
        return page_step_label(obj)

    @admin.display(description="Next due", ordering="next_step_at")
    def next_due(self, obj: Page) -> str:
        if obj.status != PageStatus.ESCALATING:
            return "-"
        return display_for_value(obj.next_step_at, "-")

    @admin.display(description="Ended")
    def ended(self, obj: Page) -> str:
        if obj.ended_at is None:
            return "-"
        who = obj.ended_by.get_username() if obj.ended_by_id else "system"
        return f"{display_for_value(obj.ended_at, '-')} by {who}"

    @admin.display(description="Steps run")
    def steps_run(self, obj: Page) -> str:
        return steps_table(obj)


def steps_table(page: Page) -> SafeString:
    rows = [
        format_html(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f"pass {step.loop + 1}, step {step.position + 1}",
            display_for_value(step.due_at, "-"),
            display_for_value(step.ran_at, "-"),
            ", ".join(str(label) for label in step.notified) or "-",
        )
        for step in page.steps.all()
    ]
    if not rows:
        return format_html("<span>{}</span>", "No step has run yet.")
    head = "<tr><th>Step</th><th>Due</th><th>Ran</th><th>Notified</th></tr>"
    return format_html("<table class='page-steps'>{}{}</table>", SafeString(head), SafeString("".join(rows)))
