"""Automated responses of alert rules: triggered immediately, after a delay (cancelled when the
alert resolves first) or after approval, in rule order, with parameters from the alert's labels
checked against the action's patterns; the runs they request are marked automated."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions.choices import RunStatus
from actions.models import Action, ActionRun
from actions.services import action_run_approve, action_run_request
from actions.services.snapshot import run_snapshot_build
from alerts.choices import ResponseTrigger
from alerts.models import AutomatedResponse, TriggeredRun
from alerts.services.processing import alerts_process
from common.actor import Actor, Source
from incidents.choices import EventKind
from tests.actions.factories import ActionStepFactory
from tests.alerts.support import am_alert, am_payload, fire, ingest

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def test_an_immediate_response_requests_a_run_with_parameters_from_the_labels(source, rule, host_action):
    rule(responses=[{"action": host_action, "parameters": {"host": "{{ alert.labels.instance }}"}}])

    (alert,) = fire(source, am_alert())

    run = ActionRun.objects.get()
    assert run.status == RunStatus.SCHEDULED
    assert run.parameters == {"host": "web-1:9100"}
    assert run.incident == alert.incident
    assert run.requested_by is None and run.requested_label == "alert-rule:Instances down"
    assert run.triggered_by.alert == alert and run.triggered_by.trigger == ResponseTrigger.IMMEDIATE
    assert run.automated and run.context["alert"]["labels"]["instance"] == "web-1:9100"
    assert "run #" in alert.notes[-1]


def test_the_migration_marks_runs_requested_by_responses_before_the_flag_existed(
    source, rule, host_action, runnable_action
):
    rule(responses=[{"action": host_action, "parameters": {"host": "{{ alert.labels.instance }}"}}])
    fire(source, am_alert())
    by_hand = action_run_request(action=runnable_action(name="By hand"), by=SYSTEM)
    ActionRun.objects.update(automated=False)  # As the schema migration leaves older runs.

    import_module("alerts.migrations.0007_mark_automated_runs").mark_automated(django_apps, None)

    assert list(ActionRun.objects.filter(automated=True)) == [TriggeredRun.objects.get().run]
    assert not ActionRun.objects.get(pk=by_hand.pk).automated


def test_responses_run_in_rule_order_then_response_order(source, rule, runnable_action):
    first, second, third = (runnable_action(name=n) for n in ("Diagnose", "Collect logs", "Page"))
    rule(name="A", order=1, continue_matching=True, responses=[{"action": first}, {"action": second}])
    rule(name="B", order=2, incident_policy="none", responses=[{"action": third}])

    fire(source, am_alert())

    names = list(TriggeredRun.objects.order_by("id").values_list("response__action__name", flat=True))
    assert names == ["Diagnose", "Collect logs", "Page"]


def test_a_response_that_cannot_be_requested_is_recorded_and_the_rest_still_run(
    source, rule, host_action, runnable_action
):
    after = runnable_action(name="Collect logs")
    rule(
        responses=[
            {"action": host_action, "parameters": {"host": "{{ alert.labels.hostname }}"}},
            {"action": after},
        ]
    )

    (alert,) = fire(source, am_alert())

    failed, ok = TriggeredRun.objects.order_by("id")
    assert failed.run is None and "hostname" in failed.error
    assert ok.run is not None
    note = alert.incident.timeline_events.get(kind=EventKind.NOTE)
    assert "Health check was not requested" in note.message


def test_a_label_value_that_breaks_the_parameter_pattern_is_refused_not_run(source, rule, host_action):
    rule(responses=[{"action": host_action, "parameters": {"host": "{{ alert.labels.instance }}"}}])

    fire(source, am_alert(instance="web-1; rm -rf /"))

    triggered = TriggeredRun.objects.get()
    assert triggered.run is None and "parameters.host" in triggered.error
    assert ActionRun.objects.count() == 0


def test_a_delayed_response_is_scheduled_for_later_and_cancelled_when_the_alert_resolves(
    source, rule, host_action
):
    rule(
        responses=[
            {
                "action": host_action,
                "trigger": "after_delay",
                "delay_seconds": 300,
                "parameters": {"host": "{{ alert.labels.instance }}"},
            }
        ]
    )
    (alert,) = fire(source, am_alert())
    run = ActionRun.objects.get()
    assert run.status == RunStatus.SCHEDULED
    assert run.due_at == alert.received_at + timedelta(seconds=300)

    (resolved,) = fire(source, am_alert(status="resolved"))

    run.refresh_from_db()
    assert resolved.pk == alert.pk and resolved.status == "resolved"
    assert run.status == RunStatus.CANCELLED
    assert any("cancelled: the alert resolved first" in note for note in resolved.notes)
    # The stale task finds a cancelled run and does nothing.
    from actions.services.execution import action_run_execute

    assert action_run_execute(run_id=run.pk, task_id=run.task_id) is None
    events = list(alert.incident.timeline_events.values_list("kind", flat=True))
    assert EventKind.ALERT_RESOLVED in events


def test_an_approval_response_waits_for_an_approver_then_runs(source, rule, host_action, approver):
    rule(
        responses=[
            {
                "action": host_action,
                "trigger": "after_approval",
                "parameters": {"host": "{{ alert.labels.instance }}"},
            }
        ]
    )
    fire(source, am_alert())
    run = ActionRun.objects.get()
    assert run.status == RunStatus.AWAITING_APPROVAL

    approved = action_run_approve(run=run, by=Actor(user=approver, source=Source.API))

    assert approved.status == RunStatus.SCHEDULED


def test_an_approval_still_pending_when_the_alert_resolves_is_cancelled(source, rule, host_action):
    rule(responses=[{"action": host_action, "trigger": "after_approval", "parameters": {"host": "web-1"}}])
    fire(source, am_alert())
    fire(source, am_alert(status="resolved"))
    assert ActionRun.objects.get().status == RunStatus.CANCELLED


def test_an_immediate_run_is_not_cancelled_by_the_resolution(source, rule, host_action):
    rule(responses=[{"action": host_action, "parameters": {"host": "web-1"}}])
    fire(source, am_alert())
    fire(source, am_alert(status="resolved"))
    assert ActionRun.objects.get().status == RunStatus.SCHEDULED


RESPONSES_READ = 'SELECT "alerts_automatedresponse"."id"'


def test_only_rules_with_an_enabled_response_have_their_responses_read(source, rule, host_action):
    """The rules' read says which have an enabled response: a batch matching only rules without
    one reads no responses; a disabled response is as none; a rule with one still runs it."""
    quiet = rule(name="Quiet", matchers=[{"label": "team", "op": "eq", "value": "quiet"}])
    AutomatedResponse.objects.create(rule=quiet, action=host_action, enabled=False)
    rule(
        name="Acting",
        matchers=[{"label": "team", "op": "eq", "value": "acting"}],
        responses=[{"action": host_action, "parameters": {"host": "{{ alert.labels.instance }}"}}],
    )

    def reads(team: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            fire(source, am_alert(fingerprint=team, team=team))
        return sum(q["sql"].startswith(RESPONSES_READ) for q in captured)

    assert reads("quiet") == 0
    assert not ActionRun.objects.exists()
    assert reads("acting") == 1
    assert ActionRun.objects.get().parameters == {"host": "web-1:9100"}


def test_the_runs_snapshot_is_built_from_the_steps_read_with_the_responses(source, rule, runnable_action):
    action = runnable_action(name="Diagnose")
    ActionStepFactory(action=action, name="Then", order=5, command="echo first")
    rule(responses=[{"action": action}])
    (alert,) = ingest(source, am_payload(am_alert()))

    with CaptureQueriesContext(connection) as queries:
        alerts_process(alert_ids=[alert.pk])

    step_reads = [q["sql"] for q in queries.captured_queries if 'FROM "actions_actionstep"' in q["sql"]]
    assert len(step_reads) == 1  # The responses' prefetch; the snapshot reads them no more.
    run = ActionRun.objects.get()
    fresh = run_snapshot_build(
        action=Action.objects.get(pk=action.pk),
        parameters=run.parameters,
        incident=run.incident,
        approval_reasons=[],
        context=run.context,
    )
    assert run.snapshot == fresh
    assert [step["command"] for step in run.snapshot["steps"]] == ["echo first", "echo ok"]
