"""The closed loop: an incident that alerts opened resolves itself once every one of its alerts has
resolved and the automated runs on it succeeded, as long as no person has taken it over.

Checked when an alert of the incident resolves and when an automated run on it finishes (whichever
comes last decides), and by the beat sweeper in case either message was lost."""

from django.db import transaction
from django.db.models import Q

from actions.choices import RunStatus
from actions.models import ActionRun
from alerts.choices import AlertStatus
from alerts.models import Alert
from common.actor import Actor, Source
from common.exceptions import ConflictError
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident, TimelineEvent
from incidents.services import incident_auto_resolve, incident_lock

# A person doing any of these has taken the incident over; automation then leaves it to them.
HUMAN_TAKEOVER = (
    EventKind.ACKNOWLEDGED,
    EventKind.HELD,
    EventKind.RESUMED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
    EventKind.DISMISSED,
    EventKind.CLOSED,
)
UNFINISHED = (
    RunStatus.PENDING,
    RunStatus.AWAITING_APPROVAL,
    RunStatus.APPROVED,
    RunStatus.SCHEDULED,
    RunStatus.RUNNING,
)
# A run that ended like this did not fix anything, and a person has to look.
UNSUCCESSFUL = (
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.ABANDONED,
    RunStatus.REJECTED,
    RunStatus.EXPIRED,
)
ACTOR = Actor.system(source=Source.TASK, label="closed-loop")


def closed_loop_verdict(incident: Incident) -> tuple[ActionRun | None, str]:
    """The run that fixed the incident, or None with the reason the loop does not close (yet)."""
    if incident.status not in (IncidentStatus.NEW, IncidentStatus.IN_PROGRESS):
        return None, f"the incident is {incident.get_status_display().lower()}"
    alerts = Alert.objects.filter(incident=incident)
    if not alerts.filter(opened_incident=True).exists():
        return None, "no alert opened the incident"
    if alerts.filter(status=AlertStatus.FIRING).exists():
        return None, "an alert is still firing"
    if TimelineEvent.objects.filter(incident=incident, kind__in=HUMAN_TAKEOVER, actor__isnull=False).exists():
        return None, "a person has taken the incident over"
    runs = ActionRun.objects.filter(incident=incident, automated=True).select_related("action")
    statuses = set(runs.values_list("status", flat=True))
    if statuses & set(UNFINISHED):
        return None, "an automated run has not finished"
    if statuses & set(UNSUCCESSFUL):
        return None, "an automated run did not succeed"
    fixer = runs.filter(status=RunStatus.SUCCEEDED).order_by("-finished_at", "-id").first()
    if fixer is None:
        return None, "no automated run succeeded"
    return fixer, ""


def incident_closed_loop_check(*, incident_id: int) -> Incident | None:
    """Auto-resolve the incident if the loop is closed; returns it when it did, else None."""
    with transaction.atomic():
        incident = Incident.objects.filter(pk=incident_id).first()
        if incident is None:
            return None
        try:
            incident = incident_lock(incident=incident)
        except ConflictError:
            return None  # Someone changed it just now; whoever did decides, and a later check may.
        fixer, _ = closed_loop_verdict(incident)
        if fixer is None:
            return None
        return incident_auto_resolve(
            incident=incident,
            by=ACTOR,
            summary=f"All alerts resolved after {fixer.action.name} (run #{fixer.pk}) succeeded.",
            details={"action_run": fixer.pk, "action": fixer.action.name},
        )


def closed_loops_sweep(*, limit: int = 200) -> int:
    """Beat: check the open alert-opened incidents with no alert still firing."""
    ids = list(
        Incident.objects.filter(
            status__in=(IncidentStatus.NEW, IncidentStatus.IN_PROGRESS),
            alerts__opened_incident=True,
        )
        .exclude(Q(alerts__status=AlertStatus.FIRING))
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")[:limit]
    )
    return sum(incident_closed_loop_check(incident_id=pk) is not None for pk in ids)
