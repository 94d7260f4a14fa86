"""A realistic incident for post-mortem tests, made the way production makes one: an alert opens it,
an automated health check runs, people acknowledge, take roles, post updates, and resolve it."""

from datetime import UTC, datetime

from actions.models import ActionRun
from actions.services.execution import action_run_execute
from alerts.services import alert_rule_save
from alerts.services.processing import alerts_process
from common.actor import Actor, Source
from incidents.models import Incident
from incidents.services import (
    incident_acknowledge,
    incident_resolve,
    incident_role_assign,
    status_update_create,
)
from tests.actions.factories import ActionFactory, ActionStepFactory
from tests.alerts.support import am_alert, am_payload, ingest
from tests.incidents.support import Clock

ONSET = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def alert_driven_incident(*, source, responder, clock: Clock, scribe=None) -> Incident:
    """P1 from a critical InstanceDown alert that started at ONSET and reached us 3 minutes later."""
    action = ActionFactory(name="Health check")
    ActionStepFactory(action=action, name="Probe", command="echo healthy")
    alert_rule_save(
        by=Actor.system(),
        data={
            "name": "Instances down",
            "matchers": [{"label": "alertname", "op": "eq", "value": "InstanceDown"}],
        },
        responses=[{"action": action}],
    )
    clock.now = ONSET.replace(minute=3)
    stored = ingest(source, am_payload(am_alert(starts_at="2026-11-02T14:00:00Z")))
    alerts_process(alert_ids=[a.pk for a in stored])
    clock.advance(seconds=20)
    run = ActionRun.objects.get()
    action_run_execute(run_id=run.pk, task_id=run.task_id)

    human = Actor(user=responder, source=Source.ADMIN)
    incident = Incident.objects.get()
    clock.advance(minutes=5)
    incident = incident_acknowledge(incident=incident, by=human)
    if scribe is not None:
        clock.advance(minutes=1)
        incident = incident_role_assign(incident=incident, by=human, role="scribe", user=scribe)
    clock.advance(minutes=10)
    status_update_create(incident=incident, by=human, message="Web tier restarted; watching error rates.")
    clock.advance(minutes=20)
    ingest(source, am_payload(am_alert(status="resolved", starts_at="2026-11-02T14:00:00Z")))
    alerts_process(alert_ids=[stored[0].pk])
    clock.advance(minutes=5)
    return incident_resolve(incident=Incident.objects.get(), by=human, summary="Restarted the web tier.")
