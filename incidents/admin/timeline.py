"""The incident page's timeline tools: pin (star) an event, download the timeline as CSV or Markdown.

IncidentTimelineMixin adds the URLs to IncidentAdmin; the page includes the partials
admin/incidents/incident/_pin_toggle.html (one star per event) and _timeline_tools.html (the
downloads). Pins go through incidents.services.timeline_event_pin; downloads through
incidents.timeline_export, the module the API serves too."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from common.admin.services import admin_actor
from common.exceptions import PermissionDeniedError
from incidents.models import Incident
from incidents.selectors import incident_timeline
from incidents.services import timeline_event_pin
from incidents.timeline_export import FORMATS, timeline_export

PIN_VALUES = {"1": True, "0": False}
VIEW_TIMELINE = "incidents.view_timelineevent"


def export_url(incident: Incident, fmt: str) -> str:
    return reverse("admin:incidents_incident_timeline_export", args=[incident.pk, fmt])


class IncidentTimelineMixin:
    """For IncidentAdmin: `<id>/timeline/<event_id>/pin/` (POST `pinned=1|0`) and
    `<id>/timeline/export.csv|md`."""

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(
                "<path:object_id>/timeline/<int:event_id>/pin/",
                self.admin_site.admin_view(require_POST(self.timeline_pin_view)),
                name=f"{info}_pin",
            ),
            path(
                "<path:object_id>/timeline/export.<str:fmt>",
                self.admin_site.admin_view(self.timeline_export_view),
                name=f"{info}_timeline_export",
            ),
        ]
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        return own + super().get_urls()

    def _incident(self, request: HttpRequest, object_id: str) -> Incident:
        incident = self.get_object(request, object_id)
        if incident is None:
            raise Http404("No such incident.")
        if not self.has_view_permission(request, incident):
            raise PermissionDenied
        return incident

    def timeline_pin_view(self, request: HttpRequest, object_id: str, event_id: int) -> HttpResponse:
        incident = self._incident(request, object_id)
        event = incident_timeline(incident=incident).filter(pk=event_id).first()
        if event is None:
            raise Http404("No such event on this incident's timeline.")
        pinned = PIN_VALUES.get(request.POST.get("pinned", ""))
        if pinned is None:
            return HttpResponseBadRequest("pinned must be 1 (pin) or 0 (unpin).")
        try:
            timeline_event_pin(event=event, by=admin_actor(request), pinned=pinned)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, f"{'Pinned' if pinned else 'Unpinned'}: {event}.")
        change_url = reverse("admin:incidents_incident_change", args=[incident.pk])
        return HttpResponseRedirect(f"{change_url}#timeline-event-{event.pk}")

    def timeline_export_view(self, request: HttpRequest, object_id: str, fmt: str) -> HttpResponse:
        if fmt not in FORMATS:
            raise Http404("The timeline exports as export.csv or export.md.")
        incident = self._incident(request, object_id)
        if not request.user.has_perm(VIEW_TIMELINE):
            raise PermissionDenied
        export = timeline_export(incident=incident, fmt=fmt)
        response = HttpResponse(export.content, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
