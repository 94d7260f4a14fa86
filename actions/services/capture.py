"""State capture at incident start (the runbook's "Initial State Capture"): each service names the
action that records its state, and when an incident opens, from any source, those actions are
requested for it like any run (low risk: at once; high risk: after an approver).

The request happens in a task after the incident's transaction commits (actions.events), so opening
an incident never waits on, or fails for, its captures. A capture that cannot even be requested is
written on the incident's timeline with the reason, where the Snapshot panel shows it."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from actions.models import Action, ActionRun, ServiceCapture
from actions.parameters import parameters_validate
from actions.services.runs import action_run_request
from actions.template_library import HEALTH_CHECK_KEY
from common.actor import Actor, Source
from common.exceptions import ApplicationError
from incidents.choices import EventKind
from incidents.models import Incident, Service, TimelineEvent
from incidents.services import timeline_event_record

CAPTURE_ACTOR_LABEL = "state-capture"
CAPTURE_FAILED = "capture_failed"  # TimelineEvent.details["capture"] of a request that failed.
# The sweep looks at incidents opened this long ago at least (their task had its chance) and at most.
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_WINDOW = timedelta(hours=1)


def capture_default_action() -> Action | None:
    """The default capture action: the oldest enabled action made from the health-check template."""
    return Action.objects.filter(template_key=HEALTH_CHECK_KEY, enabled=True).order_by("id").first()


def service_capture_save(
    *,
    by: Actor,
    service: Service,
    action: Action | None = None,
    parameters: dict[str, Any] | None = None,
    enabled: bool = True,
) -> ServiceCapture:
    """Name the action that captures `service`'s state (default: the health-check action). The
    parameters are checked against the action's declarations now, so a capture does not first fail
    when an incident opens."""
    by.require("actions.change_servicecapture", "set state capture actions")
    if action is None:
        action = capture_default_action()
        if action is None:
            raise ValidationError(
                {"action": ["Choose an action: no enabled action was made from the Health check template."]}
            )
    try:
        values = parameters_validate(action.parameters, parameters or {})
    except ValidationError as exc:
        raise ValidationError(
            {"parameters": [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]}
        ) from None
    # Only what was given is stored: the action's defaults may change later and should then apply.
    given = {name: values[name] for name in (parameters or {})}
    with transaction.atomic():
        capture, _ = ServiceCapture.objects.select_for_update().update_or_create(
            service=service, defaults={"action": action, "parameters": given, "enabled": enabled}
        )
    return capture


def service_capture_delete(*, by: Actor, capture: ServiceCapture) -> None:
    by.require("actions.delete_servicecapture", "remove state capture actions")
    capture.delete()


def incident_captures_request(*, incident_id: int) -> list[ActionRun]:
    """Request the capture of every service of the incident that has one and none yet. Idempotent:
    a second delivery of the task finds the runs (one per service and incident, a constraint) and
    requests nothing. Each service is tried on its own: one failing capture skips no other."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return []
    by = Actor.system(source=Source.TASK, label=CAPTURE_ACTOR_LABEL)
    done = set(
        ActionRun.objects.filter(incident=incident, capture_service__isnull=False).values_list(
            "capture_service_id", flat=True
        )
    )
    # A capture that could not be requested was said on the timeline once; the sweep does not repeat it.
    refused = TimelineEvent.objects.filter(
        incident=incident, kind=EventKind.NOTE, details__capture=CAPTURE_FAILED
    ).values_list("details__service", flat=True)
    captures = (
        ServiceCapture.objects.filter(service__incidents=incident, enabled=True)
        .exclude(service_id__in=done)
        .exclude(service__slug__in=list(refused))
        .select_related("service", "action")
        .order_by("service__name", "id")
    )
    runs = []
    for capture in captures:
        try:
            with transaction.atomic():
                runs.append(
                    action_run_request(
                        action=capture.action,
                        by=by,
                        parameters=capture.parameters,
                        incident=incident,
                        # Not a remediation: the closed loop must neither credit a capture with the
                        # fix nor wait on a failed one (a health check that finds the disk full).
                        automated=False,
                        capture_service=capture.service,
                    )
                )
        except IntegrityError:
            continue  # Another delivery of the task requested it meanwhile.
        except (ValidationError, ApplicationError) as exc:
            _request_failed(incident=incident, capture=capture, by=by, error=_reason(exc))
    return runs


def incident_captures_sweep(*, now: datetime | None = None) -> list[ActionRun]:
    """Beat: request the captures of incidents opened in the last hour whose task was lost (a
    worker died before it ran); incident_captures_request skips what is requested or refused."""
    now = now or timezone.now()
    recent = Incident.objects.filter(
        created_at__gte=now - SWEEP_WINDOW,
        created_at__lte=now - SWEEP_GRACE,
        services__capture__enabled=True,
    )
    runs = []
    for incident_id in recent.values_list("pk", flat=True).distinct():
        runs += incident_captures_request(incident_id=incident_id)
    return runs


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return " ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return " ".join(exc.messages)
    return str(getattr(exc, "message", exc))


def _request_failed(*, incident: Incident, capture: ServiceCapture, by: Actor, error: str) -> None:
    timeline_event_record(
        incident=incident,
        kind=EventKind.NOTE,
        by=by,
        message=(
            f"State capture of {capture.service.name} ({capture.action.name}) could not be requested: {error}"
        ),
        details={
            "capture": CAPTURE_FAILED,
            "service": capture.service.slug,
            "service_name": capture.service.name,
            "action": capture.action.name,
            "error": error,
        },
    )
