"""Action items across all post-mortems: who owns what, what is overdue, and the Start / Done /
Won't do / Reopen buttons (and bulk Start / Mark done) that call the action item services."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_fsm import can_proceed, has_transition_perm

from common.exceptions import ApplicationError, ConflictError
from postmortems.admin.base import (
    CSS,
    ReasonForm,
    ServiceSaveMixin,
    Transition,
    admin_actor,
    adopt,
    error_dict,
    form_errors_from,
    item_status_badge,
    refusals,
    render_page,
)
from postmortems.admin.forms import ActionItemForm
from postmortems.choices import OPEN_ITEM_STATUSES
from postmortems.models import ActionItem
from postmortems.models.action_item import CHANGE_PERMISSION
from postmortems.selectors import action_items_list
from postmortems.services import (
    action_item_complete,
    action_item_create,
    action_item_drop,
    action_item_reopen,
    action_item_start,
    action_item_update,
)
from postmortems.services.action_items import ITEM_FIELDS

TRANSITIONS = {
    t.name: t
    for t in (
        Transition("start", "Start", "started", "Work on it has begun."),
        Transition("complete", "Done", "marked done", "The follow-up is in place."),
        Transition(
            "drop",
            "Won't do",
            "dropped (won't do)",
            "The item will not be done. Say why: the reason stays on the item and goes on the incident's "
            "timeline.",
            needs_input=True,
            danger=True,
        ),
        Transition("reopen", "Reopen", "reopened", "The item is open again."),
    )
}
SERVICES = {
    "start": action_item_start,
    "complete": action_item_complete,
    "drop": action_item_drop,
    "reopen": action_item_reopen,
}


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
class ActionItemAdmin(ServiceSaveMixin, admin.ModelAdmin):
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
                SERVICES[name](item=item, by=by)
                done += 1
            except (ApplicationError, ValidationError) as exc:
                message = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
                refused.append(f"{item}: {message}")
        if done:
            messages.success(
                request, f"{done} action item{'s' if done != 1 else ''} {TRANSITIONS[name].done}."
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
            context["item_transitions"] = [
                {
                    "name": name,
                    "label": transition.label,
                    "url": reverse("admin:postmortems_actionitem_transition", args=[obj.pk, name]),
                    "needs_input": transition.needs_input,
                    "danger": transition.danger,
                }
                for name, transition in TRANSITIONS.items()
                if can_proceed(getattr(obj, name)) and has_transition_perm(getattr(obj, name), request.user)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{info}_transition",
            )
        ]
        return own + super().get_urls()

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        transition = TRANSITIONS.get(name)
        if transition is None:
            raise Http404("No such transition.")
        item = self.get_object(request, unquote(object_id))
        if item is None:
            raise Http404("No such action item.")
        if not self.has_view_permission(request, item) or not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        change_url = reverse("admin:postmortems_actionitem_change", args=[item.pk])
        form_kwargs = {"reason_required": name == "drop", "reason_help": "Why it will not be done."}
        if request.method == "POST":
            form = ReasonForm(request.POST, **form_kwargs)
            if form.is_valid():
                seen = form.cleaned_data.get("seen_status")
                kwargs = {"reason": form.cleaned_data["reason"]} if name == "drop" else {}
                try:
                    if seen and seen != item.status:
                        raise ConflictError(
                            f"The action item changed while you were looking at it: it is now "
                            f"{item.get_status_display().lower()}. Check it again."
                        )
                    SERVICES[name](item=item, by=admin_actor(request), **kwargs)
                except ValidationError as exc:
                    if not transition.needs_input:
                        for field_messages in error_dict(exc).values():
                            for message in field_messages:
                                messages.error(request, message)
                        return HttpResponseRedirect(change_url)
                    form_errors_from(form, exc)
                except ApplicationError as exc:
                    messages.error(request, exc.message)
                    return HttpResponseRedirect(change_url)
                else:
                    messages.success(request, f"Action item {transition.done}.")
                    return HttpResponseRedirect(change_url)
        else:
            if not can_proceed(getattr(item, name)):
                messages.warning(
                    request,
                    f"The action item is {item.get_status_display().lower()}: "
                    f"it cannot be {transition.done}.",
                )
                return HttpResponseRedirect(change_url)
            form = ReasonForm(initial={"seen_status": item.status}, **form_kwargs)
        if name != "drop":
            del form.fields["reason"]
        return render_page(
            request,
            self,
            {
                "title": f"{transition.label}: {item}",
                "item": item,
                "status_badge": item_status_badge(item.status),
                "explanation": transition.explanation,
                "form": form,
                "submit_label": transition.label,
                "danger": transition.danger,
                "back_url": change_url,
                "crumb": transition.label,
            },
        )
