"""The closed loop: alert -> incident -> automated run -> alert resolved -> incident auto-resolved,
unless a person took over or the automation did not succeed."""

import pytest

from actions.choices import RunStatus
from actions.models import ActionRun
from actions.services.execution import action_run_execute
from alerts.services import alert_rule_save
from alerts.services.closed_loop import closed_loop_verdict, closed_loops_sweep, incident_closed_loop_check
from alerts.services.processing import alerts_process
from common.actor import Actor
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident
from incidents.services import incident_acknowledge, incident_reopen
from tests.actions.factories import ActionFactory, ActionStepFactory
from tests.alerts.support import am_alert, am_payload, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_runs(settings):
    settings.ALLOW_LOCAL_PROVIDER = True


@pytest.fixture
def source(make_source):
    return make_source()[0]


def remedy(command="echo healthy"):
    action = ActionFactory(name="Health check")
    ActionStepFactory(action=action, name="Probe", command=command)
    return action


def with_rule(action, **data):
    data.setdefault("matchers", [{"label": "alertname", "op": "eq", "value": "InstanceDown"}])
    responses = [{"action": action}] if action else []
    return alert_rule_save(by=Actor.system(), data={"name": "Down", **data}, responses=responses)


def send(source, *alerts):
    stored = ingest(source, am_payload(*alerts))
    alerts_process(alert_ids=[a.pk for a in stored])
    return stored


def execute_runs():
    for run in ActionRun.objects.filter(status=RunStatus.SCHEDULED):
        action_run_execute(run_id=run.pk, task_id=run.task_id)
    return list(ActionRun.objects.order_by("id"))


def incident():
    return Incident.objects.get()


def test_fixed_by_the_run_then_resolved_alert_resolves_the_incident_automatically(source):
    with_rule(remedy())
    send(source, am_alert())
    (run,) = execute_runs()
    assert run.status == RunStatus.SUCCEEDED
    assert incident().status == IncidentStatus.NEW  # The alert still fires.

    send(source, am_alert(status="resolved"))

    resolved = incident()
    assert resolved.status == IncidentStatus.RESOLVED and resolved.auto_resolved
    event = resolved.timeline_events.get(kind=EventKind.AUTO_RESOLVED)
    assert f"Health check (run #{run.pk}) succeeded" in event.message
    assert event.details["action_run"] == run.pk and event.actor is None
    kinds = list(resolved.timeline_events.values_list("kind", flat=True))
    assert kinds.index(EventKind.ALERT_RESOLVED) < kinds.index(EventKind.AUTO_RESOLVED)


def test_when_the_alert_resolves_before_the_run_finishes_the_runs_end_decides(
    source, django_capture_on_commit_callbacks, monkeypatch
):
    with_rule(remedy())
    send(source, am_alert())
    send(source, am_alert(status="resolved"))
    assert closed_loop_verdict(incident()) == (None, "an automated run has not finished")

    enqueued = []
    from alerts.tasks import check_closed_loop

    monkeypatch.setattr(check_closed_loop, "apply_async", lambda **kw: enqueued.append(kw["kwargs"]))
    with django_capture_on_commit_callbacks(execute=True):
        execute_runs()
    assert enqueued == [{"incident_id": incident().pk}]  # The finished run asks for the check...

    incident_closed_loop_check(incident_id=incident().pk)  # ...which the worker then makes.
    assert incident().auto_resolved


def test_a_person_who_acknowledged_keeps_the_incident(source, actor):
    with_rule(remedy())
    (alert,) = send(source, am_alert())
    incident_acknowledge(incident=incident(), by=actor)
    execute_runs()

    send(source, am_alert(status="resolved"))

    current = incident()
    assert current.status == IncidentStatus.IN_PROGRESS and not current.auto_resolved
    resolved_event = current.timeline_events.get(kind=EventKind.ALERT_RESOLVED)
    assert resolved_event.details["alert"] == alert.pk
    assert closed_loop_verdict(current)[1] == "a person has taken the incident over"


def test_a_failed_run_leaves_the_incident_open(source):
    with_rule(remedy(command="exit 3"))
    send(source, am_alert())
    (run,) = execute_runs()
    assert run.status == RunStatus.FAILED

    send(source, am_alert(status="resolved"))

    assert incident().status == IncidentStatus.NEW
    assert closed_loop_verdict(incident())[1] == "an automated run did not succeed"


def test_an_alert_that_clears_on_its_own_without_automation_is_left_to_people(source):
    with_rule(None)
    send(source, am_alert())
    send(source, am_alert(status="resolved"))
    assert incident().status == IncidentStatus.NEW
    assert closed_loop_verdict(incident())[1] == "no automated run succeeded"


def test_every_alert_of_the_incident_must_resolve(source):
    with_rule(remedy(), incident_policy="attach", group_by=["alertname"])
    send(source, am_alert(fingerprint="a"), am_alert(fingerprint="b", instance="web-2:9100"))
    execute_runs()

    send(source, am_alert(status="resolved", fingerprint="a"))
    assert incident().status == IncidentStatus.NEW
    assert closed_loop_verdict(incident())[1] == "an alert is still firing"

    send(source, am_alert(status="resolved", fingerprint="b", instance="web-2:9100"))
    assert incident().auto_resolved


def test_reopening_clears_the_auto_resolved_mark(source, actor):
    with_rule(remedy())
    send(source, am_alert())
    execute_runs()
    send(source, am_alert(status="resolved"))

    reopened = incident_reopen(incident=incident(), by=actor, reason="It came back.")

    assert reopened.status == IncidentStatus.IN_PROGRESS and not reopened.auto_resolved


def test_the_sweeper_closes_loops_whose_check_was_lost(source):
    with_rule(remedy())
    send(source, am_alert())
    send(source, am_alert(status="resolved"))
    execute_runs()  # Finished after the resolve, and its check message was lost.
    assert incident().status == IncidentStatus.NEW

    assert closed_loops_sweep() == 1
    assert incident().auto_resolved
    assert closed_loops_sweep() == 0
