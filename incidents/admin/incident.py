"""The incident list and page: triage, edits, roles, status updates and transitions."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from incidents.admin import panels, warroom
from incidents.admin.display import CSS, priority_badge, status_badge
from incidents.admin.filters import DetectedWithinFilter
from incidents.admin.inlines import StatusUpdateHistoryInline
from incidents.admin.paginator import CappedCountPaginator
from incidents.admin.quick_forms import IncidentQuickFormsMixin
from incidents.admin.timeline import IncidentTimelineMixin
from incidents.admin.transitions import IncidentTransitionsMixin
from incidents.choices import Role
from incidents.forms import PRIORITY_RULES_HELP, ROLE_FIELDS, IncidentAdminForm
from incidents.models import Incident
from incidents.priority_rules import priority_suggest
from incidents.selectors import incident_detail_queryset, incident_list
from incidents.services import (
    EDITABLE_FIELDS,
    incident_create,
    incident_role_assign,
    incident_update,
)

CREATE_FIELDS = (
    "title",
    "description",
    "priority",
    "services",
    "assignee",
    "commander",
    "detected_at",
    "started_at",
    "users_affected",
    "services_down",
    "data_at_risk",
    "security_issue",
    "is_drill",
    "root_cause_category",
    "bridge_url",
)
CLOCK_FIELDS = (
    "detected_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "response_due_at",
    "response_breached_at",
    "resolution_due_at",
    "resolution_breached_at",
    "next_update_due_at",
    "reopen_count",
    "auto_resolved",
    "is_repeat",
    "created_by",
)
ROLE_DISPLAY = ("technical_lead", "communications_lead", "scribe")


@admin.register(Incident)
class IncidentAdmin(
    IncidentQuickFormsMixin,
    IncidentTimelineMixin,
    IncidentTransitionsMixin,
    ServiceSaveMixin,
    admin.ModelAdmin,
):
    form = IncidentAdminForm
    list_display = (
        "reference",
        "title",
        "priority_badge",
        "status_badge",
        "phase",
        "assignee",
        "commander",
        "is_drill",
        "detected_at",
    )
    list_display_links = ("reference", "title")
    list_filter = (
        DetectedWithinFilter,
        "status",
        "phase",
        "priority",
        "services",
        "assignee",
        "is_drill",
        "auto_resolved",
        "is_repeat",
    )
    search_fields = ("reference", "title")
    list_select_related = ("priority", "assignee", "commander")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    autocomplete_fields = ("services",)
    readonly_fields = (
        "reference",
        "status_badge",
        "suggested_priority",
        *CLOCK_FIELDS,
        "resolution_summary",
        "dismissal_reason",
        "duplicate_of",
    )

    class Media:
        css = {"all": [CSS]}

    # --- Reads --------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest):
        return incident_list().order_by(*(self.get_ordering(request) or Incident._meta.ordering))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        field = Incident._meta.get_field(from_field) if from_field else Incident._meta.pk
        try:
            return incident_detail_queryset().get(**{field.name: field.to_python(object_id)})
        except (Incident.DoesNotExist, ValidationError, ValueError):
            return None

    def has_delete_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        # The timeline is the audit trail: incidents are dismissed or closed, never deleted.
        return False

    def get_fieldsets(self, request: HttpRequest, obj: Incident | None = None):
        impact = ("users_affected", "services_down", "data_at_risk", "security_issue")
        if obj is None:
            return (
                (None, {"fields": ("title", "description", "priority", "services", "is_drill")}),
                ("Impact", {"fields": impact, "description": PRIORITY_RULES_HELP}),
                ("People", {"fields": ("assignee", "commander", "bridge_url")}),
                ("Clock", {"fields": (("detected_at", "started_at"),)}),
                ("Cause", {"fields": ("root_cause_category",)}),
            )
        fieldsets = [
            (None, {"fields": ("reference", "title", "description", ("status_badge", "phase"), "services")}),
            (
                "Priority and impact",
                {"fields": ("priority", "suggested_priority", *impact, "root_cause_category", "is_drill")},
            ),
            ("Roles", {"fields": ("assignee", "commander", *ROLE_DISPLAY, "bridge_url")}),
            (
                "Clock",
                {
                    "classes": ("collapse",),  # The header shows the SLA clocks.
                    "fields": (
                        ("started_at", "detected_at"),
                        ("acknowledged_at", "resolved_at", "closed_at"),
                        ("response_due_at", "response_breached_at"),
                        ("resolution_due_at", "resolution_breached_at"),
                        ("next_update_due_at", "reopen_count", "is_repeat"),
                        "created_by",
                    ),
                },
            ),
        ]
        if obj.resolution_summary or obj.dismissal_reason:
            fieldsets.append(
                (
                    "Outcome",
                    {"fields": ("resolution_summary", "auto_resolved", "dismissal_reason", "duplicate_of")},
                )
            )
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Incident | None = None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Incident | None):
        if obj is None:
            return []
        # The apps above add theirs (alerts, action runs, post-mortem panels) through incidents.admin.panels.
        # The timeline is not among them: the war room shows it beside the quick forms.
        return panels.inlines_with({panels.STATUS_UPDATES: StatusUpdateHistoryInline})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            context["incident_transitions"] = self.transition_buttons(request, obj)
            context["incident_priority_badge"] = priority_badge(obj.priority)
            context["incident_status_badge"] = status_badge(obj.status)
            context["incident_buttons"] = panels.buttons_for(request, obj)
            context.update(warroom.header_context(obj))
            context.update(warroom.timeline_context(request, obj))
            context.update(self.quick_forms(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Priority", ordering="priority__code")
    def priority_badge(self, obj: Incident) -> str:
        return priority_badge(obj.priority)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Incident) -> str:
        return status_badge(obj.status)

    @admin.display(description="Suggested priority")
    def suggested_priority(self, obj: Incident) -> str:
        suggestion = priority_suggest(
            users_affected=obj.users_affected,
            services_down=obj.services_down,
            data_at_risk=obj.data_at_risk,
            security_issue=obj.security_issue,
        )
        reasons = format_html_join("; ", "{}", ((r,) for r in suggestion.reasons))
        differs = ""
        if suggestion.code != obj.priority.code:
            differs = format_html(
                ' <span class="mitigate-differs">differs from the current {}</span>', obj.priority.code
            )
        return format_html("{} because {}.{}", priority_badge(suggestion.code), reasons, differs)

    def _role_holder(self, obj: Incident, role: str):
        holder = next((a.user for a in obj.role_assignments.all() if a.role == role), None)
        return holder or self.get_empty_value_display()

    # Shown when the form is read-only (viewers); editable users get the form fields of these names.
    @admin.display(description="Technical lead")
    def technical_lead(self, obj: Incident):
        return self._role_holder(obj, Role.TECHNICAL_LEAD)

    @admin.display(description="Communications lead")
    def communications_lead(self, obj: Incident):
        return self._role_holder(obj, Role.COMMUNICATIONS_LEAD)

    @admin.display(description="Scribe")
    def scribe(self, obj: Incident):
        return self._role_holder(obj, Role.SCRIBE)

    # --- Writes: every one through incidents.services ------------------------------------------

    def save_model(self, request: HttpRequest, obj: Incident, form: IncidentAdminForm, change: bool) -> None:
        by = admin_actor(request)
        data = form.cleaned_data
        with refusals():
            if not change:
                created = incident_create(by=by, **{f: data[f] for f in CREATE_FIELDS if f in data})
                adopt(obj, created)
                return
            changes: dict[str, Any] = {
                f: data[f] for f in form.changed_data if f in EDITABLE_FIELDS and f != "commander"
            }
            if "services" in changes:
                changes["services"] = list(changes["services"])
            if changes:
                incident_update(incident=obj, by=by, changes=changes)
            roles = {"commander": Role.COMMANDER, **ROLE_FIELDS}
            for field, role in roles.items():
                if field in form.changed_data:
                    incident_role_assign(incident=obj, by=by, role=role, user=data[field])

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # No form.save_m2m(): incident_create and incident_update set the services themselves.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        # The inlines are read-only: notes and status updates have their own quick forms.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
