"""alerts.services.processing: silences, rule matches, incidents opened or joined, resolutions, the
sweeper and failures. Automated responses are in test_responses.py."""

import hashlib
import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionRun
from alerts.matching import group_key
from alerts.models import Alert, AlertRule, TriggeredRun
from alerts.selectors import rules_preview
from alerts.services import silence_save
from alerts.services.processing import alert_incident_create, alert_process, alerts_process, alerts_sweep
from alerts.tasks import process_alerts
from common.actor import Actor, Source
from common.exceptions import ConflictError
from incidents.choices import EventKind
from incidents.models import Incident, Priority, TimelineEvent
from incidents.services import incident_acknowledge, incident_resolve
from tests.alerts.support import am_alert, am_payload, fire, ingest
from tests.incidents.support import seed_reference_data

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def test_an_alert_no_rule_matches_is_stored_and_marked_processed(source):
    (alert,) = fire(source, am_alert())

    assert alert.processed and alert.processed_at
    assert alert.incident is None and alert.matches == []
    assert "No rule matched" in alert.notes[0]


def test_create_policy_opens_an_incident_with_the_alerts_times_and_the_match_recorded(
    source, rule, service_factory
):
    service = service_factory(name="Web")
    matched = rule(service=service, matchers=[{"label": "severity", "op": "eq", "value": "critical"}])

    (alert,) = fire(source, am_alert())

    incident = alert.incident
    assert incident.title == "InstanceDown: InstanceDown on web-1:9100"
    assert incident.priority.code == "P1"  # severity critical
    assert list(incident.services.all()) == [service]
    assert incident.started_at.isoformat() == "2026-11-22T10:00:00.123456+00:00"
    assert incident.detected_at == alert.received_at
    assert "It stopped answering." in incident.description and "instance: web-1:9100" in incident.description
    assert alert.opened_incident and alert.rule == matched and alert.service == service
    assert alert.matches == [
        {"rule": matched.pk, "name": "Instances down", "reasons": ["severity eq critical: yes"]}
    ]
    kinds = list(incident.timeline_events.values_list("kind", flat=True))
    assert kinds == [EventKind.ALERT_ATTACHED, EventKind.CREATED]  # It fired when received.
    created = incident.timeline_events.get(kind=EventKind.CREATED)
    assert created.source == Source.TASK and created.actor is None
    assert created.details["origin"] == "alert-rule:Instances down"


def test_the_rules_priority_wins_over_the_severity_mapping(source, rule, priorities):
    rule(priority=priorities["P4"])
    (alert,) = fire(source, am_alert())
    assert alert.incident.priority.code == "P4"


def test_the_same_payload_sent_a_hundred_times_gives_one_alert_and_one_incident(source, rule):
    rule()
    payload = am_payload(am_alert())
    for _ in range(100):
        stored = ingest(source, payload)
        alerts_process(alert_ids=[a.pk for a in stored])

    alert = Alert.objects.get()
    assert alert.occurrence_count == 100
    assert Incident.objects.count() == 1
    assert TimelineEvent.objects.filter(kind=EventKind.ALERT_ATTACHED).count() == 1


def test_processing_twice_does_nothing_the_second_time(source, rule):
    rule()
    (alert,) = ingest(source, am_payload(am_alert()))
    assert alert_process(alert_id=alert.pk) is not None
    assert alert_process(alert_id=alert.pk) is None
    assert Incident.objects.count() == 1


def test_attach_policy_groups_alerts_by_the_rules_labels(source, rule):
    rule(incident_policy="attach", group_by=["alertname", "service"])

    a, b = fire(
        source,
        am_alert(fingerprint="a", instance="web-1:9100", service="web"),
        am_alert(fingerprint="b", instance="web-2:9100", service="web"),
    )
    (c,) = fire(source, am_alert(fingerprint="c", instance="db-1:9100", service="db"))

    assert a.incident == b.incident != c.incident
    assert a.opened_incident and not b.opened_incident
    assert a.group_key == 'alertname="InstanceDown",service="web"'
    assert Incident.objects.count() == 2
    joined = a.incident.timeline_events.filter(kind=EventKind.ALERT_ATTACHED)
    assert [e.details["fingerprint"] for e in joined] == ["a", "b"]


def test_attach_policy_opens_a_new_incident_once_the_groups_incident_is_resolved(source, rule, actor):
    rule(incident_policy="attach")
    (first,) = fire(source, am_alert(fingerprint="a"))
    incident = incident_acknowledge(incident=first.incident, by=actor)
    incident_resolve(incident=incident, by=actor, summary="Rebooted.")

    (second,) = fire(source, am_alert(fingerprint="b"))

    assert second.incident != first.incident and second.opened_incident


def test_a_rule_with_policy_none_opens_nothing_but_records_the_match(source, rule):
    rule(incident_policy="none")
    (alert,) = fire(source, am_alert())
    assert alert.incident is None and alert.matches and alert.processed


def test_a_silenced_alert_is_stored_but_triggers_nothing(source, rule, host_action):
    rule(responses=[{"action": host_action, "parameters": {"host": "{{ alert.labels.instance }}"}}])
    now = timezone.now()
    silence = silence_save(
        by=SYSTEM,
        data={
            "matchers": [{"label": "instance", "op": "regex", "value": "web-.*"}],
            "starts_at": now - timedelta(minutes=5),
            "ends_at": now + timedelta(hours=1),
            "reason": "Kernel upgrade on the web tier",
        },
    )

    silenced, loud = fire(source, am_alert(fingerprint="a"), am_alert(fingerprint="b", instance="db-1:9100"))

    assert silenced.silenced_by == silence and silenced.incident is None and silenced.processed
    assert "Kernel upgrade" in silenced.notes[0]
    assert loud.silenced_by is None and loud.incident is not None
    assert TriggeredRun.objects.filter(alert=silenced).count() == 0
    assert TriggeredRun.objects.filter(alert=loud).count() == 1


def test_an_expired_silence_silences_nothing(source, rule):
    rule()
    now = timezone.now()
    silence_save(
        by=SYSTEM,
        data={
            "matchers": [{"label": "alertname", "op": "eq", "value": "InstanceDown"}],
            "starts_at": now - timedelta(hours=2),
            "ends_at": now - timedelta(hours=1),
            "reason": "Last night's window",
        },
    )
    (alert,) = fire(source, am_alert())
    assert alert.silenced_by is None and alert.incident is not None


# --- resolution, sweeper, manual incident, tester --------------------------------------------------


def test_a_resolve_for_an_alert_never_processed_as_firing_opens_nothing(source, rule):
    rule()
    ingest(source, am_payload(am_alert()))  # Not processed: the broker was down.
    (alert,) = fire(source, am_alert(status="resolved"))
    assert alert.incident is None and alert.processed
    assert Incident.objects.count() == 0


def test_the_sweeper_processes_what_the_broker_never_delivered(
    source, rule, django_capture_on_commit_callbacks, monkeypatch
):
    rule()
    old, fresh = ingest(source, am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b")))
    Alert.objects.filter(pk=old.pk).update(last_received_at=timezone.now() - timedelta(minutes=2))
    sent = []
    monkeypatch.setattr(process_alerts, "apply_async", lambda **options: sent.append(options["kwargs"]))

    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_sweep() == 1
    assert sent == [{"alert_ids": [fresh.pk]}]  # one more message for the fresh one, in case its own was lost

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.processed and old.incident is not None
    assert not fresh.processed  # Its own task is probably on the way.
    assert alerts_sweep(now=timezone.now() + timedelta(minutes=1)) == 1


def test_one_failing_alert_does_not_stop_the_others(source, rule, monkeypatch):
    rule()
    a, b = ingest(source, am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b")))
    import alerts.services.processing as processing

    real = processing._process_firing

    def flaky(alert, plan, batch):
        if alert.fingerprint == "a":
            raise RuntimeError("boom")
        real(alert, plan, batch)

    monkeypatch.setattr(processing, "_process_firing", flaky)
    assert alerts_process(alert_ids=[a.pk, b.pk]) == 1
    a.refresh_from_db()
    assert not a.processed and a.incident is None  # Rolled back, left for the sweeper.
    assert Alert.objects.get(pk=b.pk).incident is not None


def test_a_person_can_open_an_incident_from_an_alert_no_rule_handled(source, actor):
    (alert,) = fire(source, am_alert(severity="warning"))

    incident = alert_incident_create(alert=alert, by=actor)

    alert.refresh_from_db()
    assert alert.incident == incident and not alert.opened_incident
    assert incident.priority.code == "P3" and incident.created_by == actor.user
    with pytest.raises(ConflictError, match="already belongs"):
        alert_incident_create(alert=alert, by=actor)


def test_the_rule_tester_explains_and_writes_nothing(source, rule, host_action):
    rule(responses=[{"action": host_action, "parameters": {"host": "{{ alert.labels.instance }}"}}])
    before = (
        Alert.objects.count(),
        Incident.objects.count(),
        ActionRun.objects.count(),
        AlertRule.objects.count(),
    )

    (preview,) = rules_preview(kind="alertmanager", raw=am_payload(am_alert()), source=source)

    assert preview.outcome == "Opens a P1 incident (Instances down)."
    assert preview.matches[0].reasons == ["alertname eq InstanceDown: yes"]
    assert preview.responses[0].parameters == {"host": "web-1:9100"}
    after = (
        Alert.objects.count(),
        Incident.objects.count(),
        ActionRun.objects.count(),
        AlertRule.objects.count(),
    )
    assert before == after


# --- long group keys, alerts that keep failing, replays -------------------------------------------


def test_a_long_group_key_is_hashed_to_fit_its_column(source, rule):
    rule(incident_policy="attach", group_by=["alertname", "service"])
    long = "s" * 1000

    a, b = fire(
        source,
        am_alert(fingerprint="a", instance="web-1:9100", service=long + "-x"),
        am_alert(fingerprint="b", instance="web-2:9100", service=long + "-x"),
    )
    (c,) = fire(source, am_alert(fingerprint="c", service=long + "-y"))

    full = f'alertname="InstanceDown",service="{long}-x"'
    assert group_key(["service", "alertname"], a.labels) == a.group_key  # the same every time
    assert len(a.group_key) == Alert._meta.get_field("group_key").max_length == 500
    assert a.group_key.startswith('alertname="InstanceDown",service="sss')
    assert a.group_key.endswith("…sha256:" + hashlib.sha256(full.encode()).hexdigest())
    assert a.processed and c.processed
    # Same labels, same group; a difference past the readable start still makes another group.
    assert a.incident == b.incident != c.incident
    assert a.group_key != c.group_key and a.group_key[:400] == c.group_key[:400]


def test_an_alert_that_keeps_failing_is_marked_failed_and_left_alone(source, rule, settings, caplog):
    """A real failure: no priority to open its incident with. It is retried by each sweep until the
    limit, then marked failed with its error and no longer swept."""
    settings.ALERT_PROCESSING_MAX_ATTEMPTS = 3
    rule()
    Priority.objects.all().delete()
    am_alert_payload = am_payload(am_alert())
    (alert,) = ingest(source, am_alert_payload)
    later = timezone.now() + timedelta(minutes=1)

    for attempt in (1, 2, 3):
        assert alerts_sweep(now=later) == 0
        alert.refresh_from_db()
        assert alert.processing_attempts == attempt and not alert.processed
        assert "IndexError" in alert.processing_error
    assert alert.processing_failed_at is not None
    assert "Processing failed 3 times; given up: IndexError" in alert.notes[-1]

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="alerts.services.processing"):
        assert alerts_sweep(now=later) == 0
    alert.refresh_from_db()
    assert alert.processing_attempts == 3
    assert not caplog.records  # not even tried
    # A repeat of the same firing does not start it over; a resolution is a new change.
    ingest(source, am_alert_payload)
    alert.refresh_from_db()
    assert alert.processing_failed_at is not None


def test_a_failed_alert_is_visible_in_the_admin_and_can_be_retried(source, rule, settings, admin_client):
    settings.ALERT_PROCESSING_MAX_ATTEMPTS = 1
    rule()
    Priority.objects.all().delete()
    (failed,) = ingest(source, am_payload(am_alert(fingerprint="a")))
    (fine,) = ingest(source, am_payload(am_alert(fingerprint="b", alertname="Other")))
    alerts_sweep(now=timezone.now() + timedelta(minutes=1))

    changelist = admin_client.get(reverse("admin:alerts_alert_changelist"), {"processing": "failed"})
    assert list(changelist.context["cl"].result_list) == [Alert.objects.get(pk=failed.pk)]
    assert "Failed (1 attempts)" in changelist.content.decode()
    page = admin_client.get(reverse("admin:alerts_alert_change", args=[failed.pk])).content.decode()
    assert "IndexError" in page

    seed_reference_data()  # the cause is fixed
    admin_client.post(
        reverse("admin:alerts_alert_changelist"),
        {"action": "retry_processing", "_selected_action": [failed.pk, fine.pk]},
    )
    failed.refresh_from_db()
    assert failed.processing_failed_at is None and failed.processing_attempts == 0
    assert "retried processing after: IndexError" in failed.notes[-1]
    assert alerts_sweep(now=timezone.now() + timedelta(minutes=1)) == 1
    failed.refresh_from_db()
    assert failed.processed and failed.incident is not None and not failed.processing_error


def test_an_old_firing_replayed_after_the_resolve_reopens_nothing(source, rule, host_action):
    """Alertmanager (or a queue) sends a firing notification again after the alert resolved: same
    startsAt, so it is a replay, counted on the resolved alert. A recurrence starts later."""
    rule(responses=[{"action": host_action, "parameters": {"host": "{{ alert.labels.instance }}"}}])
    firing = am_payload(am_alert())  # started 10:00
    (alert,) = fire(source, am_alert())
    fire(source, am_alert(status="resolved"))  # ended 10:30
    runs = ActionRun.objects.count()

    (replayed,) = fire(source, am_alert())
    again = ingest(source, firing)

    assert replayed.pk == again[0].pk == alert.pk
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.replays == 2
    assert Alert.objects.count() == 1 and Incident.objects.count() == 1
    assert ActionRun.objects.count() == runs

    (recurred,) = fire(source, am_alert(starts_at="2026-11-22T11:00:00Z"))
    assert recurred.pk != alert.pk and recurred.status == "firing"
    assert Incident.objects.count() == 2
