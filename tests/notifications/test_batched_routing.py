"""Events recorded together (a batch of alerts joining incidents) are routed by one message per
ROUTE_CHUNK events (notifications.events.happenings_heard): every event that notified one by one
still notifies, once and in order; a lone event keeps its own message; a savepoint rolled back drops
its events' message with them; a repeated message adds nothing; one failing event holds back none
of the others."""

import pytest
from django.db import transaction

from alerts.services import alert_rule_save
from alerts.services.sources import alert_source_create
from common.actor import Actor
from incidents.choices import EventKind as TimelineKind
from incidents.services import TimelineEntry, timeline_events_record
from notifications import events as notification_events
from notifications.choices import EventKind
from notifications.models import Delivery
from notifications.services import routing
from tests.alerts.support import am_alert, fire
from tests.enqueued import enqueued
from tests.notifications.support_flow import hits_of, rule, webhook_channel

pytestmark = pytest.mark.django_db
ROUTE = "notifications.tasks.event_route"
ROUTE_MANY = "notifications.tasks.events_route"


@pytest.fixture
def joins_channel(webhook_receiver, no_default_rules):
    channel = webhook_channel(webhook_receiver)
    rule("Incident news", [EventKind.INCIDENT_OPENED, EventKind.ALERT_JOINED], channels=[channel])
    return channel


@pytest.fixture
def source(db):
    alert_rule_save(
        by=Actor.system(),
        data={"name": "Storm", "matchers": [], "incident_policy": "attach", "group_by": ["alertname"]},
    )
    source, _ = alert_source_create(by=Actor.system(), name="Prometheus", kind="alertmanager")
    return source


def joins(source, count: int, start: int = 0):
    return fire(
        source, *(am_alert("DiskFull", fingerprint=f"fp-{i:03d}") for i in range(start, start + count))
    )


def routed_events(callbacks) -> list[list[dict]]:
    """The events of each routing message the callbacks publish, message by message."""
    messages = []
    for callback in callbacks:
        if getattr(callback, "args", None) and callback.args[0] == ROUTE_MANY:
            messages.append(callback.args[1]["events"])
        elif getattr(callback, "args", None) and callback.args[0] == ROUTE:
            messages.append([callback.args[1]["event"]])
    return messages


def test_a_batch_of_joins_is_routed_by_one_message_and_each_join_notifies(
    worker, webhook_receiver, joins_channel, source, django_capture_on_commit_callbacks
):
    with worker.after():
        [opener] = joins(source, 1)  # Opened, and its alert "joined" (attached) as it opened it.
    with django_capture_on_commit_callbacks() as callbacks:
        joined = joins(source, 5, start=1)

    assert enqueued(callbacks, "notifications.") == [ROUTE_MANY]
    [events] = routed_events(callbacks)
    assert [e["kind"] for e in events] == ["alert_joined"] * 5
    assert [e["details"]["fingerprint"] for e in events] == [a.fingerprint for a in joined]
    assert {e["incident"] for e in events} == {opener.incident_id}

    worker.run_task(ROUTE_MANY, {"events": events})
    bodies = hits_of(webhook_receiver)
    assert [b["event"] for b in bodies] == ["incident_opened"] + ["alert_joined"] * 6
    assert Delivery.objects.filter(event_kind="alert_joined", status="sent").count() == 6

    # The same message again (a redelivery): every event's deliveries exist, none is added.
    worker.run_task(ROUTE_MANY, {"events": events})
    assert Delivery.objects.count() == 7
    assert len(hits_of(webhook_receiver)) == 7


def test_a_lone_join_keeps_its_own_message(joins_channel, source, django_capture_on_commit_callbacks):
    joins(source, 1)
    with django_capture_on_commit_callbacks() as callbacks:
        joins(source, 1, start=1)
    assert enqueued(callbacks, "notifications.") == [ROUTE]


def test_a_big_batch_is_split_into_chunks_in_order(
    joins_channel, source, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(notification_events, "ROUTE_CHUNK", 4)
    joins(source, 1)
    with django_capture_on_commit_callbacks() as callbacks:
        joined = joins(source, 10, start=1)
    messages = routed_events(callbacks)
    assert [len(m) for m in messages] == [4, 4, 2]
    assert [e["details"]["fingerprint"] for m in messages for e in m] == [a.fingerprint for a in joined]


def test_a_rolled_back_savepoint_drops_its_events_message_with_them(
    joins_channel, source, django_capture_on_commit_callbacks
):
    [opener] = joins(source, 1)
    incident = opener.incident
    by = Actor.system()

    def entries(prefix: str) -> list[TimelineEntry]:
        return [
            TimelineEntry(incident=incident, kind=TimelineKind.ALERT_ATTACHED, by=by, message=f"{prefix} {i}")
            for i in range(3)
        ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        timeline_events_record(entries=entries("kept"))
        try:
            with transaction.atomic():
                timeline_events_record(entries=entries("undone"))
                raise RuntimeError("the savepoint's change fails")
        except RuntimeError:
            pass
        timeline_events_record(entries=entries("after"))

    messages = routed_events(callbacks)
    assert [[e["message"] for e in m] for m in messages] == [
        ["kept 0", "kept 1", "kept 2"],
        ["after 0", "after 1", "after 2"],
    ]


def test_one_failing_event_holds_back_none_of_the_others(
    worker, webhook_receiver, joins_channel, source, django_capture_on_commit_callbacks, monkeypatch
):
    joins(source, 1)
    with django_capture_on_commit_callbacks() as callbacks:
        joins(source, 3, start=1)
    [events] = routed_events(callbacks)
    real = routing.rule_matches

    def failing(rule, kind, incident):
        if failing.calls == 1:
            failing.calls += 1
            raise RuntimeError("the second event's routing fails")
        failing.calls += 1
        return real(rule, kind, incident)

    failing.calls = 0
    monkeypatch.setattr(routing, "rule_matches", failing)
    with pytest.raises(RuntimeError, match="second event"):
        worker.run_task(ROUTE_MANY, {"events": events})
    routed = set(Delivery.objects.filter(event_kind="alert_joined").values_list("event_key", flat=True))
    assert routed == {events[0]["key"], events[2]["key"]}

    # Sent again, the message routes the one that failed and adds nothing for the others.
    worker.run_task(ROUTE_MANY, {"events": events})
    assert Delivery.objects.filter(event_kind="alert_joined").count() == 3
