"""Action items across all post-mortems: who owns what, what is overdue, and the Start / Done /
Won't do / Reopen buttons (and bulk Start / Mark done) that call the action item services."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from common.exceptions import ApplicationError
from postmortems.admin.base import CSS, item_status_badge
from postmortems.admin.forms import ActionItemForm
from postmortems.admin.transitions import (
    ITEM_SERVICES,
    ITEM_TRANSITIONS,
    ActionItemTransitionsMixin,
    transition_buttons,
)
from postmortems.choices import OPEN_ITEM_STATUSES
from postmortems.models import ActionItem
from postmortems.selectors import action_items_list
from postmortems.services import action_item_create, action_item_update
from postmortems.services.action_items import ITEM_FIELDS


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "Overdue"), ("no", "Not overdue"))

    def queryset(self, request, queryset):
        overdue = {"status__in": OPEN_ITEM_STATUSES, "due_date__lt": timezone.localdate()}
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


def is_overdue(item: ActionItem) -> bool:
    return item.status in OPEN_ITEM_STATUSES and item.due_date < timezone.localdate()


@admin.register(ActionItem)
class ActionItemAdmin(ActionItemTransitionsMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ActionItemForm
    list_display = ("summary", "incident_link", "owner", "due", "status_badge", "kind")
    list_display_links = ("summary",)
    list_filter = (
        "owner",
        "status",
        OverdueFilter,
        "kind",
        ("postmortem__incident__services", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("description", "postmortem__incident__reference", "postmortem__incident__title")
    list_select_related = ("owner", "postmortem__incident")
    show_full_result_count = False
    list_per_page = 100
    actions = ("start_selected", "complete_selected")
    change_form_template = "admin/postmortems/actionitem/change_form.html"
    change_list_template = "admin/postmortems/actionitem/change_list.html"
    readonly_fields = ("postmortem_link", "status_badge", "completed_at", "wont_do_reason")

    class Media:
        css = {"all": CSS}

    # --- Reads -------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest):
        return action_items_list().order_by(*(self.get_ordering(request) or ActionItem._meta.ordering))

    def has_delete_permission(self, request: HttpRequest, obj: ActionItem | None = None) -> bool:
        return False  # Items are dropped (won't do, with the reason), never deleted.

    def get_fieldsets(self, request: HttpRequest, obj: ActionItem | None = None):
        if obj is None:
            return (
                (None, {"fields": ("postmortem", "description", ("kind", "owner", "due_date"))}),
                ("Follow-up", {"fields": ("follow_up_url", "follow_up_action")}),
            )
        fieldsets = [
            (
                None,
                {"fields": ("postmortem_link", "status_badge", "description", ("kind", "owner", "due_date"))},
            ),
            ("Follow-up", {"fields": ("follow_up_url", "follow_up_action")}),
        ]
        if obj.completed_at or obj.wont_do_reason:
            fieldsets.append(("Outcome", {"fields": ("completed_at", "wont_do_reason")}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: ActionItem | None = None):
        return () if obj is None else self.readonly_fields

    @admin.display(description="Description", ordering="description")
    def summary(self, obj: ActionItem) -> str:
        text = obj.description
        return text if len(text) <= 90 else text[:89].rstrip() + "…"

    @admin.display(description="Incident", ordering="postmortem__incident__reference")
    def incident_link(self, obj: ActionItem) -> str:
        url = reverse("admin:postmortems_postmortem_change", args=[obj.postmortem_id])
        incident = obj.postmortem.incident
        return format_html('<a href="{}" title="{}">{}</a>', url, incident.title, incident.reference)

    @admin.display(description="Post-mortem")
    def postmortem_link(self, obj: ActionItem) -> str:
        url = reverse("admin:postmortems_postmortem_change", args=[obj.postmortem_id])
        incident = obj.postmortem.incident
        return format_html('<a href="{}">{}</a> {}', url, incident.reference, incident.title)

    @admin.display(description="Due", ordering="due_date")
    def due(self, obj: ActionItem) -> str:
        if is_overdue(obj):
            late = (timezone.localdate() - obj.due_date).days
            return format_html(
                '<span class="pm-overdue" title="{} day{} overdue">{}</span>',
                late,
                "s" if late != 1 else "",
                f"{obj.due_date:%Y-%m-%d}",
            )
        return f"{obj.due_date:%Y-%m-%d}"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: ActionItem) -> str:
        return item_status_badge(obj.status)

    # --- Writes ------------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: ActionItem, form, change: bool) -> None:
        by = admin_actor(request)
        data = form.cleaned_data
        with refusals():
            if not change:
                fields = {f: data.get(f) for f in ITEM_FIELDS if f in form.fields}
                adopt(obj, action_item_create(postmortem=data["postmortem"], by=by, data=fields))
                return
            changed = {f: data[f] for f in form.changed_data if f in ITEM_FIELDS}
            if changed:
                action_item_update(item=obj, by=by, data=changed)

    def _bulk(self, request: HttpRequest, queryset, name: str) -> None:
        by, done, refused = admin_actor(request), 0, []
        for item in queryset:
            try:
                ITEM_SERVICES[name](item=item, by=by)
                done += 1
            except (ApplicationError, ValidationError) as exc:
                message = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
                refused.append(f"{item}: {message}")
        if done:
            messages.success(
                request, f"{done} action item{'s' if done != 1 else ''} {ITEM_TRANSITIONS[name].done}."
            )
        for message in refused:
            messages.warning(request, message)

    @admin.action(description="Start selected action items", permissions=["change"])
    def start_selected(self, request: HttpRequest, queryset) -> None:
        self._bulk(request, queryset, "start")

    @admin.action(description="Mark selected action items done", permissions=["change"])
    def complete_selected(self, request: HttpRequest, queryset) -> None:
        self._bulk(request, queryset, "complete")

    # --- Transition buttons ------------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            context["item_status_badge"] = item_status_badge(obj.status)
            context["item_overdue"] = is_overdue(obj)
            context["item_transitions"] = transition_buttons(self, request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
