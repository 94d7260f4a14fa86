"""What the incident page shows of paging: its page, where the escalation stands, and each step
that ran with whom it told."""

from django.contrib import admin
from django.http import HttpRequest

from incidents.admin.inlines import ReadOnlyInline
from oncall import config_selectors as selectors
from oncall.admin.pages import page_status_badge, page_step_label, steps_table
from oncall.models import Page


class IncidentPageInline(ReadOnlyInline):
    model = Page
    fk_name = "incident"
    # A one-to-one inline is headed by its singular name.
    verbose_name = "Paging"
    verbose_name_plural = "Paging"
    fields = ("status_badge", "mode", "policy", "step", "next_step_at", "ended_by", "end_source", "steps_run")
    readonly_fields = fields
    classes = (*ReadOnlyInline.classes, "incident-paging")

    def get_queryset(self, request: HttpRequest):
        return selectors.page_list_with_steps().order_by("-created_at", "-id")

    @admin.display(description="Status")
    def status_badge(self, obj: Page) -> str:
        return page_status_badge(obj)

    @admin.display(description="Step")
    def step(self, obj: Page) -> str:
        return page_step_label(obj)

    @admin.display(description="Steps run")
    def steps_run(self, obj: Page) -> str:
        return steps_table(obj)
