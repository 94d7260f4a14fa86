"""The post-mortem list and page: the sections as a form (saved through postmortem_update), the
lifecycle buttons (submit, return to draft, publish), the review meeting, the editable timeline,
the Markdown preview and download, and the action items inline."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, form_errors_from, refusals
from common.exceptions import ApplicationError
from incidents.admin.display import priority_badge
from postmortems.admin.base import CSS, item_status_badge, postmortem_status_badge, render_page
from postmortems.admin.display import PostmortemDisplayMixin
from postmortems.admin.forms import ActionItemForm, PostmortemAddForm, PostmortemAdminForm, ReviewForm
from postmortems.admin.incident import create_for_incident_view
from postmortems.admin.timeline import TimelineViewsMixin
from postmortems.admin.transitions import PostmortemTransitionsMixin, transition_buttons
from postmortems.choices import PostmortemStatus
from postmortems.markdown import postmortem_markdown
from postmortems.models import ActionItem, Postmortem
from postmortems.sections import sections_html
from postmortems.selectors import (
    postmortem_detail_queryset,
    postmortem_list,
)
from postmortems.services import (
    action_item_create,
    action_item_update,
    postmortem_create,
    postmortem_review_schedule,
    postmortem_update,
    review_suggestion,
)
from postmortems.services.action_items import ITEM_FIELDS
from postmortems.services.postmortems import SECTION_FIELDS

READ_ONLY_SUBSTITUTES = {"five_whys": "whys_display", "supporting_links": "links_display"}


class PostmortemActionItemInline(admin.TabularInline):
    """The post-mortem's action items; PostmortemAdmin.save_formset writes them through the services.
    Their status moves on the action item's own page."""

    model = ActionItem
    form = ActionItemForm
    fields = (
        "description",
        "kind",
        "owner",
        "due_date",
        "status_badge",
        "follow_up_url",
        "follow_up_action",
        "item_link",
    )
    readonly_fields = ("status_badge", "item_link")
    extra = 0
    can_delete = False
    verbose_name = "action item"
    verbose_name_plural = "Action items"
    classes = ("postmortem-action-items",)

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "follow_up_action")
            .order_by("due_date", "id")
        )

    def get_extra(self, request: HttpRequest, obj: Postmortem | None = None, **kwargs) -> int:
        return 1 if obj is not None and self.has_add_permission(request, obj) else 0

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # Items are dropped (won't do, with a reason), never deleted.

    @admin.display(description="Status")
    def status_badge(self, obj: ActionItem) -> str:
        return item_status_badge(obj.status) if obj.pk else "-"

    @admin.display(description="")
    def item_link(self, obj: ActionItem) -> str:
        if not obj.pk:
            return ""
        url = reverse("admin:postmortems_actionitem_change", args=[obj.pk])
        return format_html('<a href="{}">Open</a>', url)


@admin.register(Postmortem)
class PostmortemAdmin(
    PostmortemDisplayMixin, TimelineViewsMixin, PostmortemTransitionsMixin, ServiceSaveMixin, admin.ModelAdmin
):
    form = PostmortemAdminForm
    inlines = (PostmortemActionItemInline,)
    list_display = (
        "postmortem",
        "severity_badge",
        "status_badge",
        "author_names",
        "review_at",
        "published_at",
    )
    list_display_links = ("postmortem",)
    list_filter = ("status", "severity", "services_impacted")
    search_fields = ("incident__reference", "incident__title")
    list_select_related = ("incident__priority",)
    show_full_result_count = False
    list_per_page = 50
    filter_horizontal = ("authors", "services_impacted")
    change_form_template = "admin/postmortems/postmortem/change_form.html"
    change_list_template = "admin/postmortems/postmortem/change_list.html"
    readonly_fields = (
        "incident_link",
        "status_badge",
        "severity_badge",
        "impact_duration",
        "time_to_detect",
        "first_alert",
        "review_at",
        "attendee_names",
        "review_invited_at",
        "review_invitation_state",
        "submitted_at",
        "published_at",
        "publication_email_state",
        "whys_display",
        "links_display",
        "created_by",
    )

    class Media:
        css = {"all": CSS}

    # --- Reads -------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest):
        return postmortem_list().order_by(*(self.get_ordering(request) or Postmortem._meta.ordering))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        try:
            return postmortem_detail_queryset().select_related("incident__priority").get(pk=int(object_id))
        except (Postmortem.DoesNotExist, ValueError):
            return None

    def has_change_permission(self, request: HttpRequest, obj: Postmortem | None = None) -> bool:
        # Published is final: the page becomes read-only for everyone.
        if obj is not None and obj.status == PostmortemStatus.PUBLISHED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Postmortem | None = None) -> bool:
        return False  # A post-mortem is part of the incident's record.

    def get_form(self, request: HttpRequest, obj: Postmortem | None = None, change: bool = False, **kwargs):
        if obj is None:
            kwargs["form"] = PostmortemAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Postmortem | None):
        return self.inlines if obj is not None else ()

    def get_fieldsets(self, request: HttpRequest, obj: Postmortem | None = None):
        if obj is None:
            return (
                (
                    None,
                    {
                        "fields": ("incident",),
                        "description": "The draft is prefilled from the incident's record.",
                    },
                ),
            )
        fieldsets = [
            (None, {"fields": ("incident_link", ("status_badge", "severity_badge"), "authors")}),
            ("Executive summary", {"fields": ("executive_summary",)}),
            (
                "Impact",
                {
                    "fields": (
                        "impact_duration",
                        "users_affected",
                        "services_impacted",
                        ("data_loss", "data_loss_details"),
                        "failed_transactions",
                        "financial_impact",
                    )
                },
            ),
            ("Detection", {"fields": (("first_alert", "time_to_detect"), "detection")}),
            ("Root cause", {"fields": ("root_cause", "five_whys", "contributing_factors")}),
            ("Resolution", {"fields": ("resolution",)}),
            ("What went well", {"fields": ("what_went_well",)}),
            ("What could be improved", {"fields": ("what_could_be_improved",)}),
            ("Lessons learned", {"fields": ("lessons_learned",)}),
            ("Supporting links", {"fields": ("supporting_links",)}),
            (
                "Review meeting",
                {
                    "fields": (
                        ("review_at", "review_invited_at"),
                        "review_invitation_state",
                        "attendee_names",
                        ("submitted_at", "published_at"),
                        "publication_email_state",
                    )
                },
            ),
        ]
        if not self.has_change_permission(request, obj):
            fieldsets = [
                (
                    name,
                    {**options, "fields": tuple(READ_ONLY_SUBSTITUTES.get(f, f) for f in options["fields"])},
                )
                for name, options in fieldsets
            ]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Postmortem | None = None):
        return () if obj is None else self.readonly_fields

    # --- The page: buttons, timeline, preview -------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            can_edit = self.has_change_permission(request, obj)
            context.update(
                pm_status_badge=postmortem_status_badge(obj.status),
                pm_severity_badge=priority_badge(obj.severity) if obj.severity else "",
                pm_transitions=transition_buttons(self, request, obj),
                pm_markdown=postmortem_markdown(obj),
                pm_sections=sections_html(obj),
                pm_markdown_url=reverse("admin:postmortems_postmortem_markdown", args=[obj.pk]),
                pm_review_url=reverse("admin:postmortems_postmortem_review", args=[obj.pk])
                if can_edit
                else None,
                pm_review_suggestion=obj.review_at or review_suggestion(obj.incident),
                **self.timeline_context(request, obj, can_edit),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"

        def view(function):
            return self.admin_site.admin_view(function)

        own = [
            path("create-for/<int:incident_id>/", view(self.create_for_view), name=f"{info}_create_for"),
            path("<path:object_id>/review/", view(self.review_view), name=f"{info}_review"),
            path("<path:object_id>/markdown/", view(self.markdown_view), name=f"{info}_markdown"),
            *self.timeline_urls(),
        ]
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        return own + super().get_urls()

    def _change_url(self, postmortem: Postmortem) -> str:
        return reverse(f"{self.admin_site.name}:postmortems_postmortem_change", args=[postmortem.pk])

    def _get_or_404(self, request: HttpRequest, object_id: str) -> Postmortem:
        postmortem = self.get_object(request, unquote(object_id))
        if postmortem is None:
            raise Http404("No such post-mortem.")
        if not self.has_view_or_change_permission(request, postmortem):
            raise PermissionDenied
        return postmortem

    def create_for_view(self, request: HttpRequest, incident_id: int) -> HttpResponse:
        return create_for_incident_view(self, request, incident_id)

    def markdown_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        postmortem = self._get_or_404(request, object_id)
        response = HttpResponse(postmortem_markdown(postmortem), content_type="text/markdown; charset=utf-8")
        filename = f"{postmortem.incident.reference}-postmortem.md"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        postmortem = self._get_or_404(request, object_id)
        if not self.has_change_permission(request, postmortem):
            raise PermissionDenied
        change_url = self._change_url(postmortem)
        if request.method == "POST":
            form = ReviewForm(request.POST)
            if form.is_valid():
                try:
                    postmortem_review_schedule(
                        postmortem=postmortem,
                        by=admin_actor(request),
                        attendees=form.cleaned_data["attendees"],
                        at=form.cleaned_data["at"],
                    )
                except ValidationError as exc:
                    form_errors_from(form, exc)
                except ApplicationError as exc:
                    messages.error(request, exc.message)
                    return HttpResponseRedirect(change_url)
                else:
                    when = timezone.localtime(form.cleaned_data["at"])
                    messages.success(
                        request,
                        f"Review scheduled for {when:%Y-%m-%d %H:%M %Z}: the invitations are on their way.",
                    )
                    return HttpResponseRedirect(change_url)
        else:
            attendees = list(postmortem.review_attendees.all()) or list(postmortem.authors.all())
            at = postmortem.review_at or review_suggestion(postmortem.incident)
            form = ReviewForm(initial={"at": timezone.localtime(at), "attendees": attendees})
        suggestion = timezone.localtime(review_suggestion(postmortem.incident))
        return render_page(
            request,
            self,
            {
                "title": f"Schedule the review: post-mortem of {postmortem.incident.reference}",
                "postmortem": postmortem,
                "status_badge": postmortem_status_badge(postmortem.status),
                "explanation": (
                    f"Suggested: {suggestion:%a %Y-%m-%d %H:%M %Z}, a day after resolution (the runbook "
                    "asks for the review within 48 hours). Rescheduling sends an update of the same calendar "
                    "event."
                ),
                "form": form,
                "submit_label": "Schedule review and send invitations",
                "back_url": change_url,
                "crumb": "Review meeting",
            },
        )

    # --- Writes: every one through postmortems.services -------------------------------------------

    def save_model(self, request: HttpRequest, obj: Postmortem, form, change: bool) -> None:
        by = admin_actor(request)
        data = form.cleaned_data
        with refusals():
            if not change:
                adopt(obj, postmortem_create(incident=data["incident"], by=by))
                return
            sections = {f: data[f] for f in form.changed_data if f in SECTION_FIELDS}
            authors = list(data["authors"]) if "authors" in form.changed_data else None
            services = list(data["services_impacted"]) if "services_impacted" in form.changed_data else None
            if sections or authors is not None or services is not None:
                postmortem_update(
                    postmortem=obj, by=by, data=sections, authors=authors, services_impacted=services
                )

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # No form.save_m2m(): the services set authors and services themselves.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        by = admin_actor(request)
        for number, item_form in enumerate(formset.forms, start=1):
            if not item_form.has_changed() or not item_form.cleaned_data:
                continue
            item = item_form.instance
            with refusals(prefix=f"Action item {number}", name_fields=True):
                if item.pk is None:
                    data: dict[str, Any] = {
                        f: item_form.cleaned_data.get(f) for f in ITEM_FIELDS if f in item_form.fields
                    }
                    formset.new_objects.append(
                        action_item_create(postmortem=formset.instance, by=by, data=data)
                    )
                else:
                    changed = [f for f in item_form.changed_data if f in ITEM_FIELDS]
                    if changed:
                        data = {f: item_form.cleaned_data[f] for f in changed}
                        formset.changed_objects.append(
                            (action_item_update(item=item, by=by, data=data), changed)
                        )
