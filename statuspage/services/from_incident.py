"""A public status update posted on a Mitigate incident, carried to the status page: appended to
the incident's public incident, or opening one with a title that says only which components are
affected (the internal title is never published unless someone types it in)."""

from django.db import transaction

from common.actor import Actor, Source
from incidents.choices import Phase
from incidents.models import Incident, StatusUpdate
from statuspage.choices import ComponentStatus, Impact, Kind, PublicStatus
from statuspage.models import Component, PublicIncident, PublicUpdate
from statuspage.services.public_incidents import public_incident_open, public_update_post

PHASE_STATUS = {
    Phase.INVESTIGATING: PublicStatus.INVESTIGATING,
    Phase.IDENTIFIED: PublicStatus.IDENTIFIED,
    Phase.FIXING: PublicStatus.IDENTIFIED,
    Phase.MONITORING: PublicStatus.MONITORING,
}
PRIORITY_IMPACT = {"P1": Impact.CRITICAL, "P2": Impact.MAJOR}
PRIORITY_STATUS = {"P1": ComponentStatus.MAJOR_OUTAGE, "P2": ComponentStatus.PARTIAL_OUTAGE}


def suggested_components(incident: Incident) -> list[Component]:
    """The shown components behind the incident's services."""
    return list(
        Component.objects.filter(services__incidents=incident, shown=True)
        .distinct()
        .order_by("order", "name")
    )


def suggested_title(components: list[Component]) -> str:
    if not components:
        return "Service disruption"
    names = ", ".join(component.name for component in components[:4])
    more = f" and {len(components) - 4} more" if len(components) > 4 else ""
    return f"Service disruption affecting {names}{more}"[:200]


def suggested_component_status(incident: Incident) -> str:
    return PRIORITY_STATUS.get(
        incident.priority.code if incident.priority_id else "", ComponentStatus.DEGRADED
    )


def suggested_impact(incident: Incident) -> str:
    return PRIORITY_IMPACT.get(incident.priority.code if incident.priority_id else "", Impact.MINOR)


def status_update_publish(*, status_update: StatusUpdate) -> PublicUpdate | None:
    """Idempotent: an update already carried over is not posted twice."""
    if (
        status_update.visibility != "public"
        or PublicUpdate.objects.filter(status_update=status_update).exists()
    ):
        return None
    incident = Incident.objects.select_related("priority").get(pk=status_update.incident_id)
    # The person who posted it, so the page's update has the same author and their permissions apply.
    by = Actor(user=status_update.author, source=Source.SYSTEM, label="public status update")
    if status_update.author is None:
        by = Actor.system(label="public status update")
    with transaction.atomic():
        public = PublicIncident.objects.filter(incident=incident, kind=Kind.INCIDENT).first()
        if public is None:
            components = suggested_components(incident)
            status = PHASE_STATUS.get(status_update.phase, PublicStatus.INVESTIGATING)
            public = public_incident_open(
                by=by,
                title=suggested_title(components),
                message=status_update.message,
                impact=suggested_impact(incident),
                status=status,
                components={component: suggested_component_status(incident) for component in components},
                incident=incident,
                status_update=status_update,
            )
            return public.updates.first()
        status = PHASE_STATUS.get(status_update.phase)
        if status is None:  # No phase (a resolved incident's note): the page's status stays.
            status = public.status
        return public_update_post(
            public_incident=public,
            by=by,
            status=status,
            message=status_update.message,
            status_update=status_update,
        )
