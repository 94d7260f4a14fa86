"""Issue 12: each event kind reaches whom the rules name. The events come from the real services that
publish them (incidents, alerts, actions, post-mortems); the real router and sender deliver them to
local receivers (a signed-webhook endpoint for channels, Django's mail outbox and a Twilio stand-in
for people)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from actions.choices import Risk
from actions.services import action_run_execute, action_run_request
from alerts.services import alert_rule_save
from alerts.services.sources import alert_source_create
from common.actor import Actor, Source
from incidents.choices import Role, Visibility
from incidents.services import (
    incident_acknowledge,
    incident_close,
    incident_reopen,
    incident_resolve,
    incident_role_assign,
    incident_update,
    status_update_create,
)
from incidents.services.sla import incident_sla_sweep
from notifications.choices import EventKind, RecipientRole
from notifications.models import Delivery
from postmortems.services.postmortems import (
    postmortem_create,
    postmortem_publish,
    postmortem_submit,
    postmortem_update,
)
from tests.actions.execution_support import make_action
from tests.alerts.support import am_alert, fire
from tests.factories import UserFactory
from tests.notifications.support_flow import hits_of, rule, webhook_channel

pytestmark = pytest.mark.django_db
INCIDENT_KINDS = [
    EventKind.INCIDENT_OPENED,
    EventKind.ACKNOWLEDGED,
    EventKind.PRIORITY_CHANGED,
    EventKind.ROLE_ASSIGNED,
    EventKind.UPDATE_INTERNAL,
    EventKind.UPDATE_PUBLIC,
    EventKind.RESOLVED,
    EventKind.REOPENED,
    EventKind.CLOSED,
]


def kinds(receiver, path=None) -> list[str]:
    return [body["event"] for body in hits_of(receiver, path)]


def mailed() -> list[tuple[str, ...]]:
    """The recipients of each email sent, in order."""
    return [tuple(message.to) for message in mail.outbox]


@pytest.fixture
def local_actions(settings):
    settings.ALLOW_LOCAL_PROVIDER = True
    from actions.models import Provider

    return Provider.objects.create(name="local-notify", kind="local")


# --- each event kind --------------------------------------------------------------------------------


def test_the_incident_lifecycle_is_told_event_by_event(
    worker, webhook_receiver, no_default_rules, open_incident, priorities, actor, responder
):
    channel = webhook_channel(webhook_receiver)
    rule("Everything about incidents", INCIDENT_KINDS, channels=[channel])
    lead = UserFactory(username="comms")

    with worker.after():
        incident = open_incident(priority=priorities["P2"])
    with worker.after():
        incident = incident_acknowledge(incident=incident, by=actor)
    with worker.after():
        incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P3"]})
    with worker.after():
        incident_role_assign(incident=incident, by=actor, role=Role.COMMUNICATIONS_LEAD, user=lead)
    with worker.after():
        status_update_create(
            incident=incident, by=actor, message="Rolling back.", visibility=Visibility.INTERNAL
        )
    with worker.after():
        status_update_create(
            incident=incident, by=actor, message="We found it.", visibility=Visibility.PUBLIC
        )
    with worker.after():
        incident = incident_resolve(incident=incident, by=actor, summary="Rolled back.")
    with worker.after():
        incident = incident_reopen(incident=incident, by=actor, reason="Errors are back.")
    with worker.after():
        incident = incident_resolve(incident=incident, by=actor, summary="Rolled back again.")
    with worker.after():
        incident_close(incident=incident, by=actor)

    assert kinds(webhook_receiver) == [
        "incident_opened",
        "acknowledged",
        "priority_changed",
        "role_assigned",
        "update_internal",
        "update_public",
        "resolved",
        "reopened",
        "resolved",
        "closed",
    ]
    bodies = hits_of(webhook_receiver)
    assert all(body["incident"]["reference"] == incident.reference for body in bodies)
    assert "We found it." in bodies[5]["text"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_an_incident_opened_from_an_alert_is_told(worker, webhook_receiver, no_default_rules):
    channel = webhook_channel(webhook_receiver)
    rule("Opened", [EventKind.INCIDENT_OPENED], channels=[channel])
    alert_rule_save(by=Actor.system(), data={"name": "Everything", "matchers": []})
    source, _ = alert_source_create(by=Actor.system(), name="Prometheus", kind="alertmanager")

    with worker.after():
        [alert] = fire(source, am_alert("InstanceDown", fingerprint="fp-notify"))

    [body] = hits_of(webhook_receiver)
    assert body["event"] == "incident_opened"
    assert body["incident"]["id"] == alert.incident_id


def test_sla_breaches_are_told(worker, webhook_receiver, no_default_rules, open_incident, priorities):
    channel = webhook_channel(webhook_receiver)
    rule("SLA", [EventKind.SLA_RESPONSE_BREACHED, EventKind.SLA_RESOLUTION_BREACHED], channels=[channel])
    # P1: respond within 15 minutes, resolve within 4 hours; detected five hours ago, untouched.
    incident = open_incident(priority=priorities["P1"], detected_at=timezone.now() - timedelta(hours=5))

    with worker.after():
        incident_sla_sweep()
    with worker.after():
        incident_sla_sweep()  # Recorded once: a second sweep tells nobody again.

    assert sorted(kinds(webhook_receiver)) == ["sla_resolution_breached", "sla_response_breached"]
    assert {body["incident"]["id"] for body in hits_of(webhook_receiver)} == {incident.pk}


def test_an_overdue_update_reminds_commander_and_comms_lead_each_interval_until_one_is_posted(
    worker, no_default_rules, open_incident, priorities, actor
):
    commander = UserFactory(username="cmdr", email="cmdr@example.com")
    comms = UserFactory(username="comms", email="comms@example.com")
    UserFactory(username="bystander", email="bystander@example.com")
    rule(
        "Overdue updates",
        [EventKind.UPDATE_OVERDUE],
        roles=[RecipientRole.COMMANDER, RecipientRole.COMMUNICATIONS_LEAD],
    )
    incident = open_incident(priority=priorities["P1"], commander=commander)
    incident_role_assign(incident=incident, by=actor, role=Role.COMMUNICATIONS_LEAD, user=comms)
    incident = incident_acknowledge(incident=incident, by=actor)
    due = incident.next_update_due_at  # P1: every 30 minutes.
    mail.outbox.clear()

    with worker.after():
        incident_sla_sweep(now=due + timedelta(minutes=1))
    first = sorted(mailed())
    with worker.after():
        incident_sla_sweep(now=due + timedelta(minutes=20))  # Within the interval: no repeat.
    within = len(mail.outbox)
    with worker.after():
        incident_sla_sweep(now=due + timedelta(minutes=31))  # One interval on: reminded again.
    again = len(mail.outbox)

    update_at = timezone.now()
    status_update_create(incident=incident, by=actor, message="Still rolling back.")
    with worker.after():
        incident_sla_sweep(now=update_at + timedelta(minutes=29))

    assert first == [("cmdr@example.com",), ("comms@example.com",)]
    assert within == 2
    assert again == 4
    assert len(mail.outbox) == 4
    assert {d.event_kind for d in Delivery.objects.all()} == {"update_overdue"}


def test_a_run_awaiting_approval_reaches_the_approvers_with_the_approval_link(
    worker, local_actions, open_incident, actor, admin_user
):
    """The migration's default rule: runs awaiting approval -> the allowed approvers, by email."""
    approver = UserFactory(username="approver", email="approver@example.com", groups=["Approver"])
    UserFactory(username="plain", email="plain@example.com", groups=["Responder"])
    action = make_action(local_actions, "echo restart", risk=Risk.HIGH, name="Restart web")
    incident = open_incident()
    mail.outbox.clear()

    with worker.after():
        run = action_run_request(action=action, by=actor, incident=incident)

    assert sorted(mailed()) == [("admin@example.com",), ("approver@example.com",)]
    link = f"/admin/actions/actionrun/{run.pk}/decide/approve/"
    assert all(link in message.body for message in mail.outbox)
    assert approver.deliveries.get().event_kind == "run_awaiting_approval"


def test_failed_and_timed_out_runs_are_told(worker, webhook_receiver, no_default_rules, local_actions, actor):
    channel = webhook_channel(webhook_receiver)
    rule("Runs", [EventKind.RUN_FAILED, EventKind.RUN_TIMED_OUT], channels=[channel])
    failing = make_action(local_actions, "exit 3", name="Failing")
    slow = make_action(local_actions, {"command": "sleep 5", "timeout_seconds": 1}, name="Slow")

    for action in (failing, slow):
        run = action_run_request(action=action, by=actor)
        with worker.after():
            action_run_execute(run_id=run.pk, task_id=run.task_id)

    assert kinds(webhook_receiver) == ["run_failed", "run_timed_out"]


def test_a_published_postmortem_is_told(
    worker, webhook_receiver, no_default_rules, open_incident, admin_user
):
    channel = webhook_channel(webhook_receiver)
    rule("Post-mortems", [EventKind.POSTMORTEM_PUBLISHED], channels=[channel])
    by = Actor(user=admin_user, source=Source.ADMIN)
    incident = incident_acknowledge(incident=open_incident(), by=by)
    incident = incident_resolve(incident=incident, by=by, summary="Fixed.")
    postmortem = postmortem_create(incident=incident, by=by)
    postmortem = postmortem_update(
        postmortem=postmortem, by=by, data={"executive_summary": "It broke.", "root_cause": "A bad deploy."}
    )

    with worker.after():
        postmortem = postmortem_submit(postmortem=postmortem, by=by)
    with worker.after():
        postmortem_publish(postmortem=postmortem, by=by)

    assert kinds(webhook_receiver) == ["postmortem_published"]
