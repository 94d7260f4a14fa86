"""Transition buttons on the incident change page and the admin view each one posts to."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from common.actor import Actor, Source
from common.exceptions import ApplicationError, ConflictError
from incidents.admin.display import priority_badge, status_badge
from incidents.choices import IncidentStatus
from incidents.forms import TRANSITION_FORMS, TransitionForm
from incidents.guards import CloseRefusal, close_refusal
from incidents.models import Incident
from incidents.models.incident import TRANSITION_PERMISSION
from incidents.selectors import TRANSITION_NAMES, incident_available_transitions, incident_guarded_transitions
from incidents.services import TRANSITION_SERVICES
from incidents.services.lifecycle import CloseRefusedError


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    done: str  # "INC-2025-0001 was <done>."
    explanation: str
    danger: bool = False


TRANSITIONS = {
    t.name: t
    for t in (
        Transition("acknowledge", "Acknowledge", "acknowledged", "Takes the incident on: work starts now."),
        Transition("hold", "Put on hold", "put on hold", "Pauses the work; the reason goes to the timeline."),
        Transition("resume", "Resume", "resumed", "Picks the work up again."),
        Transition("resolve", "Resolve", "resolved", "Marks the impact as over."),
        Transition("reopen", "Reopen", "reopened", "The incident is not over after all: work resumes."),
        Transition("close", "Close", "closed", "Closes the resolved incident for good."),
        Transition(
            "dismiss",
            "Dismiss",
            "dismissed",
            "Closes the incident without work: a false alarm, or a duplicate of another incident.",
            danger=True,
        ),
    )
}
assert set(TRANSITIONS) == set(TRANSITION_NAMES) == set(TRANSITION_FORMS)


def refusal_html(refusal: CloseRefusal) -> str:
    """The reason closing is refused, with a link to the page where a person fixes it."""
    return format_html(
        '{} <a href="{}" class="incident-refusal-link">{}</a>',
        refusal.reason,
        refusal.fix_url,
        refusal.fix_label,
    )


def admin_actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, source=Source.ADMIN)


class TransitionViewsMixin:
    """For IncidentAdmin: one URL per transition, GET shows its form, POST applies it."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_transition"
        view = self.admin_site.admin_view(self.transition_view)
        own = [path("<path:object_id>/transition/<str:name>/", view, name=name)]
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        return own + super().get_urls()

    def transition_buttons(self, request: HttpRequest, incident: Incident) -> list[dict]:
        """The transitions open to this user, and those the status allows but a guard refuses for
        now: these show too, with the reason and a link to what needs doing."""
        available = incident_available_transitions(incident=incident, user=request.user)
        guarded = incident_guarded_transitions(incident=incident, user=request.user)
        return [
            {
                "name": name,
                "label": TRANSITIONS[name].label,
                "url": self._transition_url(incident, name),
                "needs_input": TRANSITION_FORMS[name].needs_input(),
                "danger": TRANSITIONS[name].danger,
                "refusal": close_refusal(incident) if name in guarded and name == "close" else None,
            }
            for name in TRANSITION_NAMES
            if name in available or name in guarded
        ]

    def _transition_url(self, incident: Incident, name: str) -> str:
        return reverse(
            f"{self.admin_site.name}:incidents_incident_transition",
            args=[incident.pk, name],
        )

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        transition = TRANSITIONS.get(name)
        if transition is None:
            raise Http404("No such transition.")
        incident = self.get_object(request, unquote(object_id))
        if incident is None:
            raise Http404("No such incident.")
        if not self.has_view_or_change_permission(request, incident):
            raise PermissionDenied
        if not request.user.has_perm(TRANSITION_PERMISSION):
            raise PermissionDenied
        change_url = reverse(f"{self.admin_site.name}:incidents_incident_change", args=[incident.pk])
        form_class = TRANSITION_FORMS[name]

        if request.method == "POST":
            form = form_class(request.POST, incident=incident)
            if form.is_valid():
                response = self._apply(request, incident, transition, form, change_url)
                if response is not None:
                    return response
        else:
            if name not in incident_available_transitions(incident=incident, user=request.user):
                resolved = name == "close" and incident.status == IncidentStatus.RESOLVED
                refusal = close_refusal(incident) if resolved else None
                messages.warning(
                    request,
                    refusal_html(refusal)
                    if refusal
                    else f"{incident.reference} cannot be {transition.done} now: "
                    f"it is {incident.get_status_display().lower()}.",
                )
                return HttpResponseRedirect(change_url)
            form = form_class(initial={"seen_status": incident.status}, incident=incident)

        context = {
            **self.admin_site.each_context(request),
            "title": f"{transition.label}: {incident.reference}",
            "subtitle": None,
            "opts": self.opts,
            "incident": incident,
            "transition": transition,
            "form": form,
            "change_url": change_url,
            "priority_badge": priority_badge(incident.priority),
            "status_badge": status_badge(incident.status),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/incidents/incident/transition.html", context)

    def _apply(
        self,
        request: HttpRequest,
        incident: Incident,
        transition: Transition,
        form: TransitionForm,
        change_url: str,
    ) -> HttpResponse | None:
        """Call the service; None means the form now carries the service's errors."""
        seen = form.cleaned_data.get("seen_status")
        try:
            if seen and seen != incident.status:
                raise ConflictError(
                    f"{incident.reference} changed while you were looking at it: it is now "
                    f"{incident.get_status_display().lower()}. Reload and try again."
                )
            service = TRANSITION_SERVICES[transition.name]
            service(incident=incident, by=admin_actor(request), **form.service_kwargs())
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for field, field_errors in errors.items():
                form.add_error(field if field in form.fields else None, field_errors)
            return None
        except CloseRefusedError as exc:
            messages.error(request, refusal_html(exc.refusal))
            return HttpResponseRedirect(change_url)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(change_url)
        messages.success(request, f"{incident.reference} was {transition.done}.")
        return HttpResponseRedirect(change_url)
