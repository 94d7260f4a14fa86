"""Public incidents and maintenance windows. The list filters by kind; the change page edits the
title and impact (public_incident_edit) and shows the updates oldest first; updates are posted on
their own page (public_update_post), incidents opened (public_incident_open, also from a Mitigate
incident's page) and maintenance scheduled (maintenance_schedule) on theirs."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, form_errors_from, refusals
from common.exceptions import ApplicationError
from incidents.models import Incident
from notifications.choices import EventKind
from statuspage.admin.badges import status_badge
from statuspage.admin.forms import (
    MaintenanceForm,
    PublicIncidentEditForm,
    PublicIncidentOpenForm,
    PublicUpdateForm,
    components_chosen,
)
from statuspage.admin.pages import form_page
from statuspage.admin.prefill import notice_text, open_initial
from statuspage.choices import ENDED, Kind, PublicStatus
from statuspage.models import PublicIncident
from statuspage.services.public_incidents import (
    OPEN_PERMISSION,
    POST_PERMISSION,
    maintenance_schedule,
    public_incident_edit,
    public_incident_open,
    public_update_post,
)


def public_url(public: PublicIncident) -> str:
    """The incident's page on the status page."""
    return reverse("statuspage:incident", args=[public.pk])


@admin.register(PublicIncident)
class PublicIncidentAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = PublicIncidentEditForm
    list_display = ("title", "kind", "status_badge", "impact", "started_at", "resolved_at")
    list_filter = ("kind", "status", "impact")
    search_fields = ("title",)
    date_hierarchy = "started_at"
    show_full_result_count = False
    change_list_template = "admin/statuspage/publicincident/change_list.html"
    fieldsets = (
        (None, {"fields": ("title", "impact", "post_buttons")}),
        (
            "Where it stands",
            {
                "fields": (
                    "kind",
                    "status_badge",
                    "incident_link",
                    "affected_list",
                    "started_at",
                    "resolved_at",
                    "scheduled_for",
                    "scheduled_until",
                )
            },
        ),
        ("Updates (oldest first)", {"fields": ("updates_table",)}),
    )
    readonly_fields = (
        "post_buttons",
        "kind",
        "status_badge",
        "incident_link",
        "affected_list",
        "started_at",
        "resolved_at",
        "scheduled_for",
        "scheduled_until",
        "updates_table",
    )

    # --- Display ---------------------------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: PublicIncident) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="Mitigate incident")
    def incident_link(self, obj: PublicIncident) -> str:
        if obj.incident_id is None:
            return "-"
        url = reverse("admin:incidents_incident_change", args=[obj.incident_id])
        return format_html('<a href="{}">{}</a>', url, obj.incident.reference)

    @admin.display(description="Components")
    def affected_list(self, obj: PublicIncident) -> str:
        rows = obj.affected.select_related("component")
        return (
            format_html_join(", ", "{} ({})", ((r.component.name, r.get_status_display()) for r in rows))
            or "-"
        )

    @admin.display(description="Updates")
    def updates_table(self, obj: PublicIncident) -> str:
        updates = obj.updates.select_related("author").order_by("created_at", "id")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style='white-space:pre-wrap'>{}</td></tr>",
            (
                (
                    f"{u.created_at:%Y-%m-%d %H:%M}",
                    u.get_status_display(),
                    u.author.get_username() if u.author else "system",
                    "yes" if u.notify else "no",
                    u.message,
                )
                for u in updates
            ),
        )
        return format_html(
            '<table id="statuspage-updates"><thead><tr><th>Posted</th><th>Status</th><th>By</th>'
            "<th>Subscribers told</th><th>Message</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="")
    def post_buttons(self, obj: PublicIncident) -> str:
        links = [(public_url(obj), "View on the status page")]
        if obj.status != PublicStatus.COMPLETED:
            links.insert(0, (self.post_url(obj), "Post an update"))
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', links)

    # --- URLs ------------------------------------------------------------------------------

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        own = [
            path("open/", view(self.open_view), name=f"{info}_open"),
            path("schedule/", view(self.schedule_view), name=f"{info}_schedule"),
            path("<path:object_id>/post/", view(self.post_view), name=f"{info}_post"),
        ]
        return own + super().get_urls()

    def post_url(self, obj: PublicIncident, *, resolved: bool = False) -> str:
        url = reverse("admin:statuspage_publicincident_post", args=[obj.pk])
        return f"{url}?resolved=1" if resolved else url

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:statuspage_publicincident_open"))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # What customers were told stays told: resolve it instead.

    def save_model(self, request: HttpRequest, obj: PublicIncident, form, change: bool) -> None:
        with refusals():
            saved = public_incident_edit(
                public_incident=obj,
                by=admin_actor(request),
                title=form.cleaned_data["title"],
                impact=form.cleaned_data["impact"],
            )
        adopt(obj, saved)

    # --- Views -----------------------------------------------------------------------------

    def _posted(self, request: HttpRequest, form, call) -> PublicIncident | None:
        """Run the service call; its refusal goes onto the form (None) or into messages."""
        try:
            return call()
        except ValidationError as exc:
            form_errors_from(form, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        return None

    def open_view(self, request: HttpRequest) -> HttpResponse:
        """Open a public incident; with ?incident=<id>, for that Mitigate incident, prefilled."""
        if not request.user.has_perm(OPEN_PERMISSION):
            raise PermissionDenied
        incident = None
        initial, statuses = {}, {}
        if request.GET.get("incident", "").isdigit() and int(request.GET["incident"]) < 2**63:
            incident = get_object_or_404(
                Incident.objects.select_related("priority"), pk=request.GET["incident"]
            )
            existing = PublicIncident.objects.filter(incident=incident).first()
            if existing is not None:
                messages.info(request, f"{incident.reference} is on the status page already: post an update.")
                return HttpResponseRedirect(self.post_url(existing))
            initial, statuses = open_initial(incident)
        back = (
            reverse("admin:incidents_incident_change", args=[incident.pk])
            if incident
            else reverse("admin:statuspage_publicincident_changelist")
        )
        form = PublicIncidentOpenForm(request.POST or None, initial=initial, statuses=statuses)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            public = self._posted(
                request,
                form,
                lambda: public_incident_open(
                    by=admin_actor(request),
                    title=data["title"],
                    message=data["message"],
                    impact=data["impact"],
                    status=data["status"],
                    components=components_chosen(form),
                    incident=incident,
                    notify=data["notify"],
                ),
            )
            if public is not None:
                messages.success(request, f"“{public.title}” is on the status page.")
                return HttpResponseRedirect(back if incident else self._change_url(public))
        return form_page(
            request,
            self,
            {
                "title": "Post to the status page" if incident else "Open a public incident",
                "summary": f"For {incident.reference} (its internal title is not published)."
                if incident
                else "",
                "explanation": "Customers see the title, the components and their statuses, and the message. "
                "Nothing is published until you press Post.",
                "form": form,
                "submit_label": "Post",
                "back_url": back,
                "crumb": "Post" if incident else "Open",
            },
        )

    def schedule_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(OPEN_PERMISSION):
            raise PermissionDenied
        form = MaintenanceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            public = self._posted(
                request,
                form,
                lambda: maintenance_schedule(
                    by=admin_actor(request),
                    title=data["title"],
                    message=data["message"],
                    scheduled_for=data["scheduled_for"],
                    scheduled_until=data["scheduled_until"],
                    components=list(data["components"]),
                    notify=data["notify"],
                ),
            )
            if public is not None:
                messages.success(request, f"Maintenance “{public.title}” is scheduled.")
                return HttpResponseRedirect(self._change_url(public))
        return form_page(
            request,
            self,
            {
                "title": "Schedule maintenance",
                "explanation": "Its components go under maintenance when the window opens and back when it "
                "ends (beat does both).",
                "form": form,
                "submit_label": "Schedule",
                "back_url": reverse("admin:statuspage_publicincident_changelist"),
                "crumb": "Schedule maintenance",
            },
        )

    def post_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Post an update; ?resolved=1 starts from the resolution notice of its Mitigate incident."""
        public = None
        if object_id.isdigit() and int(object_id) < 2**63:
            public = PublicIncident.objects.select_related("incident__priority").filter(pk=object_id).first()
        if public is None:
            raise Http404("No such public incident.")
        if not request.user.has_perm(POST_PERMISSION):
            raise PermissionDenied
        initial = {"status": public.status}
        if request.GET.get("resolved") and public.kind == Kind.INCIDENT:
            initial["status"] = PublicStatus.RESOLVED
            if public.incident_id:
                initial["message"] = notice_text(public.incident, EventKind.RESOLVED)
        elif public.incident_id and public.status not in ENDED:
            initial["message"] = notice_text(public.incident, EventKind.UPDATE_PUBLIC)
        form = PublicUpdateForm(request.POST or None, initial=initial, public=public)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            update = self._posted(
                request,
                form,
                lambda: public_update_post(
                    public_incident=public,
                    by=admin_actor(request),
                    status=data["status"],
                    message=data["message"],
                    components=components_chosen(form),
                    notify=data["notify"],
                ),
            )
            if update is not None:
                messages.success(request, f"Update posted: {update.get_status_display()}.")
                return HttpResponseRedirect(self._change_url(public))
        return form_page(
            request,
            self,
            {
                "title": f"Post an update to “{public.title}”",
                "summary": f"Now {public.get_status_display().lower()}.",
                "explanation": "The update moves the status and the components' statuses, and (if ticked) "
                "tells subscribers. Nothing is published until you press Post.",
                "form": form,
                "submit_label": "Post",
                "back_url": self._change_url(public),
                "crumb": "Post an update",
            },
        )

    def _change_url(self, public: PublicIncident) -> str:
        return reverse("admin:statuspage_publicincident_change", args=[public.pk])
