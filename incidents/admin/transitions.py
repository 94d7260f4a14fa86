"""Transition buttons on the incident change page, and what the transition page (common.admin's
TransitionPageMixin) needs to know about incidents."""

from functools import partial

from django import forms
from django.http import HttpRequest
from django.utils.html import format_html

from common.admin.services import admin_actor
from common.admin.transition import Transition, TransitionPageMixin
from common.exceptions import ApplicationError
from incidents.admin.display import priority_badge, status_badge
from incidents.choices import IncidentStatus
from incidents.forms import TRANSITION_FORMS
from incidents.guards import CloseRefusal, close_refusal
from incidents.models import Incident
from incidents.models.incident import TRANSITION_PERMISSION
from incidents.selectors import TRANSITION_NAMES, incident_available_transitions, incident_guarded_transitions
from incidents.services import TRANSITION_SERVICES
from incidents.services.lifecycle import CloseRefusedError

# Every incident transition needs the one permission to move incidents through their lifecycle.
_transition = partial(Transition, permission=TRANSITION_PERMISSION)
TRANSITIONS = {
    t.name: t
    for t in (
        _transition("acknowledge", "Acknowledge", "acknowledged", "Takes the incident on: work starts now."),
        _transition(
            "hold", "Put on hold", "put on hold", "Pauses the work; the reason goes to the timeline."
        ),
        _transition("resume", "Resume", "resumed", "Picks the work up again."),
        _transition("resolve", "Resolve", "resolved", "Marks the impact as over."),
        _transition("reopen", "Reopen", "reopened", "The incident is not over after all: work resumes."),
        _transition("close", "Close", "closed", "Closes the resolved incident for good."),
        _transition(
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


class IncidentTransitionsMixin(TransitionPageMixin):
    """For IncidentAdmin: one URL per transition, GET shows its form, POST applies it."""

    transitions = TRANSITIONS
    transition_stale_advice = "Reload and try again."

    def transition_buttons(self, request: HttpRequest, incident: Incident) -> list[dict]:
        """The transitions open to this user, and those the status allows but a guard refuses for
        now: these show too, with the reason and a link to what needs doing."""
        available = incident_available_transitions(incident=incident, user=request.user)
        guarded = incident_guarded_transitions(incident=incident, user=request.user)
        return [
            {
                "name": name,
                "label": TRANSITIONS[name].label,
                "url": self.transition_url(incident, name),
                "needs_input": TRANSITION_FORMS[name].needs_input(),
                "danger": TRANSITIONS[name].danger,
                "refusal": close_refusal(incident) if name in guarded and name == "close" else None,
            }
            for name in TRANSITION_NAMES
            if name in available or name in guarded
        ]

    def transition_subject(self, incident: Incident) -> str:
        return incident.reference

    def transition_open(self, request: HttpRequest, incident: Incident, transition: Transition) -> bool:
        return transition.name in incident_available_transitions(incident=incident, user=request.user)

    def transition_closed_message(
        self, request: HttpRequest, incident: Incident, transition: Transition
    ) -> str:
        resolved = transition.name == "close" and incident.status == IncidentStatus.RESOLVED
        refusal = close_refusal(incident) if resolved else None
        if refusal:
            return refusal_html(refusal)
        return super().transition_closed_message(request, incident, transition)

    def transition_form(self, incident: Incident, transition: Transition, **kwargs) -> forms.Form:
        return TRANSITION_FORMS[transition.name](incident=incident, **kwargs)

    def transition_call(self, request: HttpRequest, incident: Incident, transition: Transition, form) -> None:
        service = TRANSITION_SERVICES[transition.name]
        service(incident=incident, by=admin_actor(request), **form.service_kwargs())

    def transition_error_message(self, exc: ApplicationError) -> str:
        if isinstance(exc, CloseRefusedError):
            return refusal_html(exc.refusal)
        return exc.message

    def transition_page(self, request: HttpRequest, incident: Incident, transition: Transition) -> dict:
        return {
            "title": f"{transition.label}: {incident.reference}",
            "crumb": incident.reference,
            "summary": format_html(
                "{} {} <strong>{}</strong> {}",
                priority_badge(incident.priority),
                status_badge(incident.status),
                incident.reference,
                incident.title,
            ),
        }
