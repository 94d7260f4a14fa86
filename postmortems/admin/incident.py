"""What the incident page shows of post-mortems: a "Post-mortem" panel (a link to it, or a "Create
post-mortem" button) and "Related incidents" (earlier incidents like this one, with what their
post-mortems found). Both render from one read-only inline that PostmortemsConfig.ready() adds to the
incident page (incidents.admin.panels); the create button leads to PostmortemAdmin's create-for view
below."""

from functools import cached_property

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse

from common.admin.panel import NoRowsFormSet, once_per_request
from common.admin.services import admin_actor
from common.exceptions import ApplicationError, ConflictError
from incidents.models import Incident
from postmortems.admin.base import SeenStatusForm, postmortem_status_badge, render_page
from postmortems.models import Postmortem
from postmortems.related import incidents_related
from postmortems.services import postmortem_create
from postmortems.services.postmortems import ADD_PERMISSION

VIEW_PERMISSION = "postmortems.view_postmortem"


class IncidentPanels:
    """What the panels template reads; the related incidents are looked up only when rendered."""

    def __init__(self, request: HttpRequest, incident: Incident):
        self.incident = incident
        self.postmortem = Postmortem.objects.filter(incident=incident).first()
        self.can_create = self.postmortem is None and request.user.has_perm(ADD_PERMISSION)
        self.create_url = reverse("admin:postmortems_postmortem_create_for", args=[incident.pk])

    @cached_property
    def postmortem_url(self) -> str:
        return (
            reverse("admin:postmortems_postmortem_change", args=[self.postmortem.pk])
            if self.postmortem
            else ""
        )

    @cached_property
    def postmortem_badge(self) -> str:
        return postmortem_status_badge(self.postmortem.status) if self.postmortem else ""

    @cached_property
    def related(self) -> list[dict]:
        return [
            {
                "incident": found.incident,
                "url": reverse("admin:incidents_incident_change", args=[found.incident.pk]),
                "reasons": found.reasons,
                "root_cause": found.root_cause,
                "postmortem_url": (
                    reverse("admin:postmortems_postmortem_change", args=[found.postmortem.pk])
                    if found.postmortem is not None
                    else ""
                ),
            }
            for found in incidents_related(incident=self.incident)
        ]


class PanelsFormSet(NoRowsFormSet):
    """The inline only carries the panels to its template."""

    panels: IncidentPanels | None = None


class IncidentPostmortemInline(admin.TabularInline):
    """The "Post-mortem" and "Related incidents" panels of the incident page."""

    model = Postmortem
    fk_name = "incident"
    formset = PanelsFormSet
    template = "admin/postmortems/incident_panels.html"
    fields = ()
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name = "post-mortem"
    verbose_name_plural = "Post-mortem"

    def get_formset(self, request: HttpRequest, obj: Incident | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is None:
            return formset
        panels = once_per_request(request, (type(self), obj.pk), lambda: IncidentPanels(request, obj))
        return type(formset.__name__, (formset,), {"panels": panels})

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(VIEW_PERMISSION) or request.user.has_perm(ADD_PERMISSION)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def create_for_incident_view(model_admin, request: HttpRequest, incident_id: int) -> HttpResponse:
    """GET: what creating the post-mortem will do; POST: postmortem_create, then its page. An
    incident that has one already leads to it."""
    incident = get_object_or_404(Incident.objects.select_related("priority"), pk=incident_id)
    existing = Postmortem.objects.filter(incident=incident).first()
    if existing is not None:
        messages.info(request, f"{incident.reference} already has a post-mortem.")
        return HttpResponseRedirect(reverse("admin:postmortems_postmortem_change", args=[existing.pk]))
    if not request.user.has_perm(ADD_PERMISSION):
        raise PermissionDenied
    incident_url = reverse("admin:incidents_incident_change", args=[incident.pk])
    if request.method == "POST":
        try:
            postmortem = postmortem_create(incident=incident, by=admin_actor(request))
        except ConflictError as exc:
            messages.info(request, exc.message)
            existing = Postmortem.objects.filter(incident=incident).first()
            if existing is None:
                raise Http404("No such post-mortem.") from exc
            return HttpResponseRedirect(reverse("admin:postmortems_postmortem_change", args=[existing.pk]))
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(incident_url)
        messages.success(request, f"Post-mortem of {incident.reference} drafted from the incident's record.")
        return HttpResponseRedirect(reverse("admin:postmortems_postmortem_change", args=[postmortem.pk]))
    return render_page(
        request,
        model_admin,
        {
            "title": f"Create the post-mortem of {incident.reference}",
            "incident": incident,
            "explanation": (
                "The draft is prefilled from the incident's record: severity, impacted services, users "
                "affected, how it was detected, how it was resolved, and the timeline. The commander "
                "becomes its first author."
            ),
            "form": SeenStatusForm(),
            "submit_label": "Create post-mortem",
            "back_url": incident_url,
            "crumb": "Create",
        },
    )
