"""What the forms that post from a Mitigate incident start with: the suggested public title, impact
and components (statuspage.services.from_incident, never the internal title), and a message from the
notifications' customer-notice templates. Only a starting point: nothing is posted until a person
presses Post."""

from django.core.exceptions import ValidationError

from incidents.choices import Visibility
from incidents.models import Incident
from notifications.choices import Audience, EventKind
from notifications.rendering.context import message_context
from notifications.rendering.render import message_render, template_source
from statuspage.services.from_incident import (
    suggested_component_status,
    suggested_components,
    suggested_impact,
    suggested_title,
)


def notice_text(incident: Incident, kind: str) -> str:
    """The customer notice of `kind` (INCIDENT_OPENED, UPDATE_PUBLIC or RESOLVED) for the incident.
    Only a public status update may fill in its message: an internal one never reaches the form."""
    latest_public = None
    if kind == EventKind.UPDATE_PUBLIC:
        latest_public = (
            incident.status_updates.filter(visibility=Visibility.PUBLIC)
            .order_by("-created_at", "-id")
            .first()
        )
    subject, body = template_source(kind, Audience.CUSTOMER)
    context = message_context(
        event={"kind": kind, "message": ""}, incident=incident, status_update=latest_public
    )
    try:
        text = message_render(subject=subject, body=body, context=context).text
    except ValidationError:  # A customer template edited into one that fails: start blank.
        return ""
    # A blank message leaves an empty paragraph behind: close it up.
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def open_initial(incident: Incident) -> tuple[dict, dict[int, str]]:
    """(initial values, {component id: status}) for the first post of an incident."""
    components = suggested_components(incident)
    status = suggested_component_status(incident)
    initial = {
        "title": suggested_title(components),
        "impact": suggested_impact(incident),
        "message": notice_text(incident, EventKind.INCIDENT_OPENED),
    }
    return initial, {component.pk: status for component in components}
