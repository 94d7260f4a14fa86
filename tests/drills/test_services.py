"""drills.services: starting both ways, ending on resolution or cancel with cleanup requested once,
the report written at the end, and the timings measured from hand-set timestamps."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from actions.choices import Risk, RunStatus
from actions.models import ActionRun
from actions.services import action_run_request
from alerts.models import Alert, AlertPayload
from alerts.services.processing import alerts_process
from common.actor import Actor, Source
from common.exceptions import TransitionNotAllowedError
from drills.choices import DrillStatus, StartMode
from drills.models import DrillReport, DrillRun
from drills.selectors import drill_incident, drill_run_get, drill_timings
from drills.services import (
    drill_run_cancel,
    drill_run_start,
    drill_runs_end_for_incident,
    drill_runs_sweep,
)
from incidents.choices import EventKind
from incidents.models import Incident
from incidents.services import incident_acknowledge, incident_resolve
from tests.enqueued import enqueued

pytestmark = pytest.mark.django_db


@pytest.fixture
def by(responder):
    return Actor(user=responder, source=Source.ADMIN)


def resolve(incident, by):
    incident = incident_acknowledge(incident=incident, by=by)
    return incident_resolve(incident=incident, by=by, summary="Pool restarted.")


def test_direct_mode_opens_a_drill_incident_through_the_incidents_service(scenario, by, service_factory):
    web = service_factory(name="Web")
    made = scenario()
    made.services.set([web])

    run = drill_run_start(scenario=made, by=by)

    assert run.status == DrillStatus.RUNNING and run.alert is None
    incident = run.incident
    assert incident.is_drill and incident.priority.code == "P3" and list(incident.services.all()) == [web]
    assert incident.title == "Drill: Database connection exhaustion"
    assert "Simulated" not in incident.description  # Nothing to say, nothing said.
    kinds = set(incident.timeline_events.values_list("kind", flat=True))
    assert {EventKind.CREATED, EventKind.NOTE} <= kinds


def test_synthetic_mode_posts_the_alert_through_the_webhook_ingest_with_the_drill_source(
    scenario, by, drill_source, drill_rule, django_capture_on_commit_callbacks
):
    made = scenario(start_mode=StartMode.SYNTHETIC_ALERT, source=drill_source)

    with django_capture_on_commit_callbacks() as callbacks:
        run = drill_run_start(scenario=made, by=by)

    alert = run.alert
    assert alert.source == drill_source and alert.labels["drill_run"] == str(run.pk)
    assert AlertPayload.objects.filter(source=drill_source).count() == 1  # Stored as a webhook's body.
    assert enqueued(callbacks) == ["alerts.tasks.process_alerts"]  # Processed like any alert.
    assert run.incident is None and Incident.objects.count() == 0

    alerts_process(alert_ids=[alert.pk])

    incident = drill_incident(drill_run_get(pk=run.pk))
    assert incident is not None and incident.is_drill
    assert Alert.objects.get(pk=alert.pk).incident == incident


def test_the_drill_incident_describes_the_scenario(scenario, by):
    run = drill_run_start(
        scenario=scenario(description="The pool fills.", simulated="200 sleeping sessions"), by=by
    )
    assert run.incident.description == "The pool fills.\n\nSimulated: 200 sleeping sessions"


def test_two_synthetic_drills_of_one_scenario_post_two_alerts(scenario, by, drill_source, drill_rule):
    made = scenario(start_mode=StartMode.SYNTHETIC_ALERT, source=drill_source)
    first, second = drill_run_start(scenario=made, by=by), drill_run_start(scenario=made, by=by)
    assert first.alert != second.alert


def test_a_disabled_drill_source_refuses_the_start_and_leaves_nothing(scenario, by, drill_source):
    made = scenario(start_mode=StartMode.SYNTHETIC_ALERT, source=drill_source)
    drill_source.enabled = False
    drill_source.save()

    with pytest.raises(ValidationError) as refused:
        drill_run_start(scenario=made, by=by)

    assert "source" in refused.value.message_dict
    assert not DrillRun.objects.exists() and not Alert.objects.exists()


def test_a_real_source_cannot_be_a_scenarios_source(scenario, priorities):
    from alerts.services import alert_source_create

    real = alert_source_create(by=Actor.system(), name="Prometheus", kind="alertmanager")[0]
    with pytest.raises(ValidationError) as refused:
        scenario(start_mode=StartMode.SYNTHETIC_ALERT, source=real)
    assert "source" in refused.value.message_dict


def test_the_injection_action_is_requested_at_start_and_a_high_risk_one_waits_for_approval(
    scenario, by, runnable_action
):
    inject = runnable_action(name="Fill the pool", risk=Risk.HIGH)
    run = drill_run_start(scenario=scenario(injection_action=inject), by=by)

    assert run.injection_run.action == inject
    assert run.injection_run.status == RunStatus.AWAITING_APPROVAL
    assert run.injection_run.incident is None  # The drill's doing, not a responder's action.


def test_resolving_the_incident_completes_the_run_with_one_cleanup_and_a_report(
    scenario, by, runnable_action, django_capture_on_commit_callbacks
):
    cleanup = runnable_action(name="Release connections")
    run = drill_run_start(scenario=scenario(cleanup_action=cleanup), by=by)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resolve(run.incident, by)
    assert "drills.tasks.end_drill_runs" in enqueued(callbacks)

    drill_runs_end_for_incident(incident_id=run.incident.pk)  # As the task would.
    drill_runs_end_for_incident(incident_id=run.incident.pk)  # A repeated message.
    drill_runs_sweep()

    run = DrillRun.objects.get(pk=run.pk)
    assert run.status == DrillStatus.COMPLETED and run.ended_at is not None
    assert ActionRun.objects.filter(action=cleanup).count() == 1
    assert run.cleanup_run.action == cleanup
    assert DrillReport.objects.filter(run=run).count() == 1


def test_a_real_incident_resolving_enqueues_nothing_for_drills(
    open_incident, by, django_capture_on_commit_callbacks
):
    incident = open_incident()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resolve(incident, by)
    assert "drills.tasks.end_drill_runs" not in enqueued(callbacks)


def test_cancelling_runs_the_cleanup_once_and_a_second_cancel_is_refused(scenario, by, runnable_action):
    cleanup = runnable_action(name="Release connections")
    run = drill_run_start(scenario=scenario(cleanup_action=cleanup), by=by)

    cancelled = drill_run_cancel(run=run, by=by, reason="Real incident   in progress")
    with pytest.raises(TransitionNotAllowedError):
        drill_run_cancel(run=cancelled, by=by)
    resolve(run.incident, by)
    drill_runs_end_for_incident(incident_id=run.incident.pk)  # Cancelled runs stay cancelled.

    cancelled = DrillRun.objects.get(pk=run.pk)
    assert cancelled.status == DrillStatus.CANCELLED
    assert cancelled.cancel_reason == "Real incident in progress"
    assert ActionRun.objects.filter(action=cleanup).count() == 1
    assert DrillReport.objects.filter(run=run).count() == 1


def test_a_refused_cleanup_is_noted_and_the_drill_still_ends(scenario, by, runnable_action):
    cleanup = runnable_action(name="Release connections")
    run = drill_run_start(scenario=scenario(cleanup_action=cleanup), by=by)
    cleanup.enabled = False
    cleanup.save()

    ended = drill_run_cancel(run=run, by=by)

    assert ended.status == DrillStatus.CANCELLED and ended.cleanup_run is None
    assert ended.cleanup_requested_at is not None
    assert "was not requested" in ended.notes[-1]


def test_a_viewer_may_not_start_a_drill(scenario, viewer):
    from common.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        drill_run_start(scenario=scenario(), by=Actor(user=viewer, source=Source.API))


def test_timings_are_measured_from_the_record(scenario, by, runnable_action):
    inject, respond = runnable_action(name="Inject"), runnable_action(name="Restart pool")
    run = drill_run_start(scenario=scenario(injection_action=inject), by=by)
    incident = run.incident
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    ActionRun.objects.filter(pk=run.injection_run_id).update(started_at=t0)
    Incident.objects.filter(pk=incident.pk).update(
        created_at=t0 + timedelta(minutes=3),
        acknowledged_at=t0 + timedelta(minutes=8),
        resolved_at=t0 + timedelta(minutes=43),
    )
    first = action_run_request(action=respond, by=by, incident=incident)
    later = action_run_request(action=respond, by=by, incident=incident)
    ActionRun.objects.filter(pk=first.pk).update(created_at=t0 + timedelta(minutes=15))
    ActionRun.objects.filter(pk=later.pk).update(created_at=t0 + timedelta(minutes=20))
    # The drill's own injection is never the responders' first action, however early.
    ActionRun.objects.filter(pk=run.injection_run_id).update(created_at=t0)

    timings = drill_timings(drill_run_get(pk=run.pk))
    plain = drill_timings(DrillRun.objects.get(pk=run.pk))  # Not from the list: same numbers.

    assert timings.detect == timedelta(minutes=3)
    assert timings.acknowledge == timedelta(minutes=5)
    assert timings.first_action == timedelta(minutes=12)
    assert timings.resolve == timedelta(minutes=40)
    assert plain == timings
    assert timings.as_seconds() == {
        "detect_seconds": 180.0,
        "acknowledge_seconds": 300.0,
        "first_action_seconds": 720.0,
        "resolve_seconds": 2400.0,
    }


def test_timings_of_a_drill_whose_incident_is_not_open_yet_are_empty(scenario, by, drill_source):
    made = scenario(start_mode=StartMode.SYNTHETIC_ALERT, source=drill_source)
    run = drill_run_start(scenario=made, by=by)
    timings = drill_timings(drill_run_get(pk=run.pk))
    assert timings.detect is None and timings.resolve is None


def test_the_sweeper_completes_a_drill_whose_resolution_message_was_lost(
    scenario, by, drill_source, drill_rule
):
    run = drill_run_start(scenario=scenario(start_mode=StartMode.SYNTHETIC_ALERT, source=drill_source), by=by)
    alerts_process(alert_ids=[run.alert_id])
    incident = Alert.objects.get(pk=run.alert_id).incident
    resolve(incident, by)  # Its task never ran.
    assert DrillRun.objects.get(pk=run.pk).status == DrillStatus.RUNNING

    assert drill_runs_sweep() == 1
    assert drill_runs_sweep() == 0

    ended = DrillRun.objects.get(pk=run.pk)
    assert ended.status == DrillStatus.COMPLETED and ended.incident == incident  # Linked at the end.


def test_injection_and_cleanup_get_the_scenarios_parameters_checked_when_saved(scenario, by, runnable_action):
    parameters = [{"name": "host", "required": True, "pattern": r"[a-z0-9-]+"}]
    inject = runnable_action(name="Fill the disk", parameters=parameters)
    cleanup = runnable_action(name="Free the disk", parameters=parameters)
    with pytest.raises(ValidationError) as refused:
        scenario(injection_action=inject, cleanup_action=cleanup, cleanup_parameters={"host": "db 1; rm"})
    assert set(refused.value.message_dict) == {"injection_parameters", "cleanup_parameters"}

    made = scenario(
        injection_action=inject,
        injection_parameters={"host": "db-1"},
        cleanup_action=cleanup,
        cleanup_parameters={"host": "db-1"},
    )
    run = drill_run_cancel(run=drill_run_start(scenario=made, by=by), by=by)
    assert run.injection_run.parameters == {"host": "db-1"} and run.cleanup_run.parameters == {"host": "db-1"}


def test_a_dismissed_drill_incident_ends_its_drill_too(scenario, by, django_capture_on_commit_callbacks):
    from incidents.services import incident_dismiss

    run = drill_run_start(scenario=scenario(), by=by)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        incident_dismiss(incident=run.incident, by=by, reason="Started by mistake.")
    assert "drills.tasks.end_drill_runs" in enqueued(callbacks)

    (ended,) = drill_runs_end_for_incident(incident_id=run.incident.pk)
    assert ended.status == DrillStatus.COMPLETED and DrillReport.objects.filter(run=run).exists()
