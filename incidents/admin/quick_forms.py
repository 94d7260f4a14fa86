"""The war room's quick forms beside the timeline: add a note, post a status update. Each is a
small POST-only admin URL that calls the incidents service and goes back to the page; a refusal
shows the form again with the service's errors, and nothing is written."""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from common.admin.services import admin_actor, form_errors_from
from common.exceptions import ApplicationError
from incidents.admin.warroom import ALL, timeline_filter_known
from incidents.choices import IncidentStatus
from incidents.forms import StatusUpdateForm
from incidents.models import Incident
from incidents.services import incident_note_add, status_update_create

NOTE_PREFIX = "quick-note"
UPDATE_PREFIX = "quick-update"


class NoteForm(forms.Form):
    message = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)


class QuickUpdateForm(StatusUpdateForm):
    """The status update form, unbound from a row: status_update_create writes it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["message"].label = "Status update"

    def _post_clean(self) -> None:
        pass  # No model instance to validate: the service checks everything.


class IncidentQuickFormsMixin:
    """For IncidentAdmin: <id>/quick/note/ and <id>/quick/status-update/."""

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(
                "<path:object_id>/quick/note/",
                self.admin_site.admin_view(self.quick_note_view),
                name=f"{info}_quick_note",
            ),
            path(
                "<path:object_id>/quick/status-update/",
                self.admin_site.admin_view(self.quick_update_view),
                name=f"{info}_quick_update",
            ),
        ]
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        return own + super().get_urls()

    def quick_forms(self, request: HttpRequest, incident: Incident) -> dict:
        """The blank forms the page shows, for who may use them."""
        info = f"admin:{self.opts.app_label}_{self.opts.model_name}"
        context = {}
        if self.has_change_permission(request, incident):
            context["quick_note_form"] = NoteForm(prefix=NOTE_PREFIX)
            context["quick_note_url"] = reverse(f"{info}_quick_note", args=[incident.pk])
        can_post = request.user.has_perm("incidents.add_statusupdate")
        if can_post and incident.status != IncidentStatus.CLOSED:
            context["quick_update_form"] = QuickUpdateForm(prefix=UPDATE_PREFIX)
            context["quick_update_url"] = reverse(f"{info}_quick_update", args=[incident.pk])
        return context

    def quick_note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._quick_post(
            request,
            object_id,
            NoteForm,
            NOTE_PREFIX,
            "Add a note",
            lambda incident, data: incident_note_add(
                incident=incident, by=admin_actor(request), message=data["message"]
            ),
            "Note added to the timeline.",
        )

    def quick_update_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._quick_post(
            request,
            object_id,
            QuickUpdateForm,
            UPDATE_PREFIX,
            "Post a status update",
            lambda incident, data: status_update_create(
                incident=incident,
                by=admin_actor(request),
                message=data["message"],
                visibility=data["visibility"],
                phase=data["phase"],
            ),
            "Status update posted.",
        )

    def _quick_post(self, request, object_id, form_class, prefix, title, call, done) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        incident = self.get_object(request, unquote(object_id))
        if incident is None:
            raise Http404("No such incident.")
        if not self.has_view_or_change_permission(request, incident):
            raise PermissionDenied
        change_url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[incident.pk]
        )
        form = form_class(request.POST, prefix=prefix)
        if form.is_valid():
            try:
                call(incident, form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            except ApplicationError as exc:  # Refused: no permission, closed incident.
                form.add_error(None, exc.message)
            else:
                messages.success(request, done)
                # Back to the timeline as it was filtered.
                shown = request.POST.get("timeline", ALL)
                query = f"?timeline={shown}" if shown != ALL and timeline_filter_known(shown) else ""
                return HttpResponseRedirect(f"{change_url}{query}#incident-timeline")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{title}: {incident.reference}",
            "subtitle": None,
            "original": incident,
            "form": form,
            "action_url": request.path,
            "change_url": change_url,
            "submit_label": title,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/incidents/incident/quick_form.html", context)
