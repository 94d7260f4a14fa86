"""Issue 12: bundling. A rule that bundles N seconds sends at most one message per incident per
window to each target; the events of the window fold into the waiting message, which tells how many
("+N more"); nothing is lost (every event keeps its ledger row, pointing at the message that told it).

Only events of the same kind fold together: a resolution (or any other change of kind) is never
hidden inside a waiting "alerts joined" message. It waits its turn in the incident's window instead,
after the message already waiting, so the messages arrive in the order things happened."""

import itertools
from datetime import timedelta

import pytest
from django.db.models import F

from alerts.services import alert_rule_save
from alerts.services.sources import alert_source_create
from common.actor import Actor
from incidents.services import incident_acknowledge, incident_resolve
from notifications.choices import EventKind
from notifications.models import Delivery
from notifications.services.deliveries import deliveries_sweep
from tests.alerts.support import am_alert, fire
from tests.notifications.support_flow import hits_of, rule, webhook_channel

pytestmark = pytest.mark.django_db
WINDOW = 300
STORM = 200


@pytest.fixture
def bundled_channel(webhook_receiver, no_default_rules):
    channel = webhook_channel(webhook_receiver)
    rule(
        "Incident news, bundled",
        [EventKind.INCIDENT_OPENED, EventKind.ALERT_JOINED, EventKind.RESOLVED],
        channels=[channel],
        bundle_seconds=WINDOW,
    )
    return channel


@pytest.fixture
def source(db):
    alert_rule_save(
        by=Actor.system(),
        data={"name": "Storm", "matchers": [], "incident_policy": "attach", "group_by": ["alertname"]},
    )
    source, _ = alert_source_create(by=Actor.system(), name="Prometheus", kind="alertmanager")
    return source


def storm(source, count: int, start: int = 0):
    alerts = [
        am_alert("DiskFull", fingerprint=f"fp-{i:03d}", instance=f"db-{i}:9100") for i in range(start, count)
    ]
    return fire(source, *alerts)


def sent_schedule(incident_id: int) -> list:
    """When each message (not folded) of the incident was due, in order."""
    return sorted(
        Delivery.objects.filter(incident_id=incident_id)
        .exclude(status="bundled")
        .values_list("next_attempt_at", flat=True)
    )


def window_passes(worker) -> None:
    """A window's time passes for the whole ledger (every due time moves back by one window, so
    their spacing stays as the router set it); the held messages now due arrive."""
    Delivery.objects.update(next_attempt_at=F("next_attempt_at") - timedelta(seconds=WINDOW))
    worker.advance(WINDOW)
    worker.run_later()


def test_an_alert_storm_sends_one_message_per_window_with_the_folded_count(
    worker, webhook_receiver, bundled_channel, source
):
    with worker.after():
        alerts = storm(source, STORM)

    [incident_id] = {alert.incident_id for alert in alerts}
    # The opening message went at once; everything else waits for the window and folds.
    assert [b["event"] for b in hits_of(webhook_receiver)] == ["incident_opened"]
    window_passes(worker)

    bodies = hits_of(webhook_receiver)
    assert [b["event"] for b in bodies] == ["incident_opened", "alert_joined"]
    assert f"+{STORM - 1} more" in bodies[1]["text"]
    assert bodies[1]["data"]["bundled"] == STORM - 1
    schedule = sent_schedule(incident_id)
    assert all(
        later - earlier >= timedelta(seconds=WINDOW) for earlier, later in itertools.pairwise(schedule)
    )
    # Nothing lost: one row per event (opened + one per alert), each sent or folded into a sent one.
    rows = Delivery.objects.filter(incident_id=incident_id)
    assert rows.count() == 1 + STORM
    assert rows.filter(status="sent").count() == 2
    folded = rows.filter(status="bundled")
    assert folded.count() == STORM - 1
    assert not folded.filter(bundled_into__isnull=True).exists()
    assert not folded.filter(sent_at__isnull=True).exists()


def test_a_storm_in_waves_sends_at_most_one_message_per_window(
    worker, webhook_receiver, bundled_channel, source
):
    with worker.after():
        storm(source, 50)
    window_passes(worker)
    with worker.after():
        storm(source, 120, start=50)
    with worker.after():
        alerts = storm(source, STORM, start=120)
    window_passes(worker)

    bodies = hits_of(webhook_receiver)
    assert [b["event"] for b in bodies] == ["incident_opened", "alert_joined", "alert_joined"]
    assert [b["data"]["bundled"] for b in bodies[1:]] == [49, 149]
    schedule = sent_schedule(alerts[0].incident_id)
    assert all(
        later - earlier >= timedelta(seconds=WINDOW) for earlier, later in itertools.pairwise(schedule)
    )
    assert Delivery.objects.count() == 1 + STORM


def test_a_resolution_is_not_folded_into_a_waiting_message(
    worker, webhook_receiver, bundled_channel, source, actor
):
    with worker.after():
        alerts = storm(source, 20)
    incident = alerts[0].incident
    incident = incident_acknowledge(incident=incident, by=actor)
    with worker.after():
        incident_resolve(incident=incident, by=actor, summary="Disk cleaned up.")

    resolved = Delivery.objects.get(event_kind="resolved")
    assert resolved.status == "pending"  # Its own message, not folded into the alerts' one.
    waiting = Delivery.objects.get(event_kind="alert_joined", status="pending")
    assert resolved.next_attempt_at >= waiting.next_attempt_at + timedelta(seconds=WINDOW)

    window_passes(worker)
    window_passes(worker)

    bodies = hits_of(webhook_receiver)
    assert [b["event"] for b in bodies] == ["incident_opened", "alert_joined", "resolved"]
    assert "+19 more" in bodies[1]["text"]
    assert "more" not in bodies[2]["text"].split("\n")[-1]


def test_events_fold_into_a_waiting_message_whose_send_was_lost_and_the_sweep_sends_it_once(
    worker, webhook_receiver, bundled_channel, source
):
    with worker.after():
        storm(source, 5)
    # Two windows pass and the held message's send never arrives (a broker that lost it).
    Delivery.objects.update(next_attempt_at=F("next_attempt_at") - timedelta(seconds=3 * WINDOW))
    worker.later.clear()

    with worker.after():
        storm(source, 10, start=5)
    assert Delivery.objects.filter(status="pending").count() == 1  # Still one message waiting.
    with worker.after():
        deliveries_sweep()

    bodies = hits_of(webhook_receiver)
    assert [b["event"] for b in bodies] == ["incident_opened", "alert_joined"]
    assert "+9 more" in bodies[1]["text"]
