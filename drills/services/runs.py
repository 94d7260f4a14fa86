"""Starting, cancelling and ending drill runs. A run starts its incident the way a real one starts:
a synthetic alert posted through the webhook's own ingest service with the scenario's drill source
(alert processing then opens, or joins, a drill incident), or an incident opened directly through
the incidents service. Injection and cleanup are ordinary action runs (high-risk ones wait for
approval). Cleanup is requested once per run, under the run's lock, whether it completed or was
cancelled; the report is written in the same transaction as the end."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from actions.models import Action, ActionRun
from actions.services import action_run_request
from alerts.management.alert_sender import build_payload
from alerts.models import Alert
from alerts.parsers import PayloadError, parse
from alerts.services import alerts_ingest, payload_check
from common.actor import Actor, Source
from common.exceptions import ApplicationError, TransitionNotAllowedError
from common.fsm import locked_transition
from drills.choices import DrillStatus, StartMode
from drills.models import DrillReport, DrillRun, DrillScenario, DrillSchedule
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident
from incidents.services import incident_create, timeline_event_record

START_PERMISSION = "drills.add_drillrun"
CHANGE_PERMISSION = "drills.change_drillrun"
# The label that ties a synthetic alert to its run: its fingerprint (made from the labels) differs
# from every other run's, so two drills of one scenario never land on one alert.
RUN_LABEL = "drill_run"
ENDING_TRANSITIONS = ("resolve", "auto_resolve", "close", "dismiss")
ENDED_INCIDENT = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)


def _note(run: DrillRun, line: str) -> None:
    run.notes = [*run.notes, f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}"]


def _action_request(action: Action, by: Actor, what: str, parameters: dict[str, str]) -> ActionRun:
    """Request an injection or cleanup run. Not attached to the incident: it is the drill's own
    doing, not the responders', so it never counts as their first action."""
    return action_run_request(
        action=action, by=by, parameters=parameters, automated=True, context={"drill": what}
    )


def _with_field(exc: ValidationError, field: str) -> ValidationError:
    messages = (
        [m for ms in exc.message_dict.values() for m in ms] if hasattr(exc, "error_dict") else exc.messages
    )
    return ValidationError({field: messages})


def drill_run_start(
    *,
    scenario: DrillScenario,
    by: Actor,
    participants: Iterable[AbstractBaseUser] = (),
    schedule: DrillSchedule | None = None,
) -> DrillRun:
    """Start a drill of `scenario`: its injection action (if any) is requested, then the synthetic
    alert is ingested or the drill incident opened. All or nothing: a refused injection or alert
    leaves no run behind."""
    by.require(START_PERMISSION, "start drills")
    if not scenario.enabled:
        raise ValidationError({"scenario": [f"The scenario {scenario.name!r} is disabled."]})
    scenario.clean()  # Its start settings may have been valid once and not now (a source changed).
    now = timezone.now()
    with transaction.atomic():
        run = DrillRun.objects.create(
            scenario=scenario, started_by=by.user, started_at=now, schedule=schedule
        )
        run.participants.set(list(participants))
        if scenario.injection_action_id is not None:
            try:
                with transaction.atomic():
                    run.injection_run = _action_request(
                        scenario.injection_action, by, "injection", scenario.injection_parameters
                    )
            except ValidationError as exc:
                raise _with_field(exc, "injection_action") from exc
            _note(run, f"Injection {scenario.injection_action.name}: run #{run.injection_run.pk} requested.")
        if scenario.start_mode == StartMode.SYNTHETIC_ALERT:
            run.alert = _synthetic_alert(scenario, run)
            _note(run, f"Synthetic alert #{run.alert.pk} posted through {scenario.source.slug}.")
        else:
            run.incident = _incident_open(scenario, run, by)
            _note(run, f"Opened {run.incident.reference}.")
        run.save()
    return run


def _synthetic_alert(scenario: DrillScenario, run: DrillRun) -> Alert:
    """Post the scenario's alert as its drill source's monitoring system would, through the same
    parse, checks and ingest the webhook view uses; processing happens after commit, as for any alert."""
    source = scenario.source
    if not source.enabled:
        raise ValidationError({"source": [f"The alert source {source.slug!r} is disabled."]})
    labels = {**scenario.alert_labels, RUN_LABEL: str(run.pk)}
    annotations = {"drill": "true", **scenario.alert_annotations}
    raw = build_payload(
        source.kind, labels=labels, annotations=annotations, resolved=False, starts_at=run.started_at
    )
    try:
        payload = parse(source.kind, raw)
        payload_check(source=source, payload=payload)
    except PayloadError as exc:
        raise ValidationError({"alert_labels": [str(exc)]}) from exc
    (alert,) = alerts_ingest(source=source, payload=payload, raw=raw)
    return alert


def _incident_open(scenario: DrillScenario, run: DrillRun, by: Actor) -> Incident:
    incident = incident_create(
        by=by,
        title=f"Drill: {scenario.name}",
        description="\n\n".join(
            part
            for part in (scenario.description, scenario.simulated and f"Simulated: {scenario.simulated}")
            if part and part.strip()
        ),
        priority=scenario.priority,
        services=list(scenario.services.all()),
        detected_at=run.started_at,
        is_drill=True,
    )
    timeline_event_record(
        incident=incident,
        kind=EventKind.NOTE,
        by=by,
        message=f"Drill #{run.pk} of {scenario.name!r} opened this incident: an exercise.",
        details={"drill_run": run.pk},
    )
    return incident


def _stale(locked: DrillRun) -> str:
    return f"Drill #{locked.pk} is {locked.get_status_display().lower()} already."


def _end(*, run: DrillRun, by: Actor, name: str, reason: str = "") -> DrillRun:
    """End the run (transition `name`), then request its cleanup once and write its report."""

    def apply(locked: DrillRun) -> None:
        locked.ended_at = timezone.now()
        locked.ended_by = by.user
        if reason:
            locked.cancel_reason = reason
        if locked.incident_id is None and locked.alert_id is not None:
            locked.incident_id = Alert.objects.filter(pk=locked.alert_id).values_list(
                "incident_id", flat=True
            )[0]
        _cleanup_request(locked, by)

    def record(locked: DrillRun, from_status: str) -> None:
        DrillReport.objects.get_or_create(run=locked)
        if locked.incident_id is not None:
            verb = "completed" if name == "complete" else f"cancelled{': ' + reason if reason else ''}"
            timeline_event_record(
                incident=locked.incident,
                kind=EventKind.NOTE,
                by=by,
                message=f"Drill #{locked.pk} {verb}.",
                details={"drill_run": locked.pk, "from": from_status, "to": locked.status},
            )

    return locked_transition(
        instance=run,
        name=name,
        by=by,
        stale=_stale,
        refused=lambda locked: TransitionNotAllowedError(_stale(locked), extra={"status": locked.status}),
        denied="end drills",
        apply=apply,
        record=record,
        related=("scenario__cleanup_action", "incident"),
    )


def _cleanup_request(run: DrillRun, by: Actor) -> None:
    """Once per run: `cleanup_requested_at` is set under the run's lock whatever the outcome, and a
    refused request is noted rather than blocking the end (the team cleans up by hand)."""
    if run.cleanup_requested_at is not None:
        return
    run.cleanup_requested_at = timezone.now()
    action = run.scenario.cleanup_action
    if action is None:
        return
    try:
        with transaction.atomic():
            run.cleanup_run = _action_request(action, by, "cleanup", run.scenario.cleanup_parameters)
    except (ValidationError, ApplicationError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message
        _note(run, f"Cleanup {action.name} was not requested: {text}")
        return
    _note(run, f"Cleanup {action.name}: run #{run.cleanup_run.pk} requested.")


def drill_run_cancel(*, run: DrillRun, by: Actor, reason: str = "") -> DrillRun:
    """Stop a running drill; its cleanup still runs. The drill incident stays as it is."""
    by.require(CHANGE_PERMISSION, "cancel drills")
    return _end(run=run, by=by, name="cancel", reason=" ".join(reason.split()))


def drill_run_complete(*, run: DrillRun, by: Actor) -> DrillRun:
    """End a running drill whose incident resolved."""
    by.require(CHANGE_PERMISSION, "end drills")
    return _end(run=run, by=by, name="complete")


def drill_runs_end_for_incident(*, incident_id: int) -> list[DrillRun]:
    """Complete the running drills of this incident, if it is resolved or closed by now (the
    signal's task and the sweeper both call this; an ended run is left alone)."""
    incident = Incident.objects.filter(pk=incident_id, is_drill=True, status__in=ENDED_INCIDENT).first()
    if incident is None:
        return []
    by = Actor.system(source=Source.TASK, label="drills")
    ended = []
    for run in DrillRun.objects.filter(
        Q(incident=incident) | Q(alert__incident=incident), status=DrillStatus.RUNNING
    ):
        try:
            ended.append(drill_run_complete(run=run, by=by))
        except ApplicationError:
            continue  # Ended meanwhile by someone else.
    return ended


def drill_runs_sweep() -> int:
    """Beat: complete running drills whose incident ended while the signal's task was lost."""
    incident_ids = set()
    for incident_id, alert_incident_id in DrillRun.objects.filter(
        Q(incident__status__in=ENDED_INCIDENT) | Q(alert__incident__status__in=ENDED_INCIDENT),
        status=DrillStatus.RUNNING,
    ).values_list("incident_id", "alert__incident_id"):
        incident_ids.add(incident_id or alert_incident_id)
    return sum(len(drill_runs_end_for_incident(incident_id=pk)) for pk in incident_ids if pk)


REPORT_FIELDS = ("observations", "score", "improvements")


def drill_report_update(*, report: DrillReport, by: Actor, data: dict[str, Any]) -> DrillReport:
    by.require("drills.change_drillreport", "edit drill reports")
    for field, value in data.items():
        if field not in REPORT_FIELDS:
            raise ValidationError({field: ["Not a drill report field."]})
        setattr(report, field, value)
    report.full_clean(exclude=["run"])
    with transaction.atomic():
        report.save()
    return report
