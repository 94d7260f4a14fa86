"""What /metrics says after real work: alerts posted to the webhook and processed, SLA breaches
recorded by the sweeper, runs and deliveries in the ledger, queues on the broker, sweeps run.
Webhook counters are process-wide (other tests post too), so they are compared before and after."""

from datetime import timedelta

import pytest
import redis
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from actions.choices import RunStatus
from alerts.models import Alert
from alerts.services.processing import alerts_process
from alerts.tasks import sweep_alerts
from incidents.models import Incident
from incidents.services.sla import incident_sla_sweep
from notifications.choices import ChannelKind, DeliveryStatus, EventKind
from notifications.models import Channel, Delivery
from observability import receivers
from observability.queues import REDIS_PRIORITY_SEPARATOR, queue_names
from tests.actions.factories import ActionRunFactory
from tests.alerts.conftest import _isolated_cache, make_source, rule  # noqa: F401 (fixtures)
from tests.alerts.support import am_alert, am_payload, post
from tests.observability.support import samples, value

pytestmark = pytest.mark.django_db


def test_the_webhook_counts_received_accepted_refused_and_its_latency(client, make_source):  # noqa: F811
    source, token = make_source(name="Prod AM")
    before = samples(client)

    assert (
        post(
            client, f"/hooks/{token}/", data=am_payload(am_alert(), am_alert(fingerprint="fp-2"))
        ).status_code
        == 202
    )
    assert post(client, f"/hooks/{source.slug}/", Authorization=f"Bearer {token}").status_code == 202
    assert post(client, "/hooks/no-such-token/").status_code == 401
    assert post(client, f"/hooks/{token}/", body="{not json").status_code == 400
    after = samples(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("mitigate_alert_requests_received_total", source=source.slug) == 3
    assert delta("mitigate_alerts_accepted_total", source=source.slug) == 3
    assert delta("mitigate_alert_requests_refused_total", source=source.slug, reason="invalid_payload") == 1
    assert delta("mitigate_alert_requests_received_total", source="unknown") == 1
    assert delta("mitigate_alert_requests_refused_total", source="unknown", reason="not_authenticated") == 1
    # The token in the URL is never a label value.
    assert not any(token in str(labels) or "no-such-token" in str(labels) for _, labels in after)
    assert delta("mitigate_alert_ingest_seconds_count", outcome="accepted") == 2
    assert delta("mitigate_alert_ingest_seconds_count", outcome="refused") == 2
    assert delta("mitigate_alert_ingest_seconds_bucket", outcome="accepted", le="+Inf") == 2
    assert delta("mitigate_alert_ingest_seconds_sum", outcome="accepted") > 0


def test_processing_lag_open_incidents_and_sla_breaches(client, make_source, rule):  # noqa: F811
    _source, token = make_source()
    rule()
    found = samples(client)
    assert value(found, "mitigate_alerts_unprocessed", -1) == 0
    assert value(found, "mitigate_alert_processing_lag_seconds", -1) == 0

    assert post(client, f"/hooks/{token}/", data=am_payload(am_alert())).status_code == 202
    alert = Alert.objects.get()
    Alert.objects.filter(pk=alert.pk).update(last_received_at=timezone.now() - timedelta(seconds=90))
    found = samples(client)
    assert value(found, "mitigate_alerts_unprocessed") == 1
    assert 90 <= value(found, "mitigate_alert_processing_lag_seconds") < 150

    # One given up on (as processing marks it after its last attempt) is not waiting any more.
    Alert.objects.filter(pk=alert.pk).update(processing_failed_at=timezone.now())
    found = samples(client)
    assert value(found, "mitigate_alerts_processing_failed") == 1
    assert value(found, "mitigate_alerts_unprocessed", -1) == 0
    Alert.objects.filter(pk=alert.pk).update(processing_failed_at=None)

    alerts_process(alert_ids=[alert.pk])
    incident = Incident.objects.get()
    code = incident.priority.code
    found = samples(client)
    assert value(found, "mitigate_alerts_unprocessed", -1) == 0
    assert value(found, "mitigate_alert_processing_lag_seconds", -1) == 0
    assert value(found, "mitigate_alerts_processing_failed", -1) == 0
    assert value(found, "mitigate_incidents_open", priority=code, status="new") == 1
    assert value(found, "mitigate_incidents_open", -1, priority=code, status="in_progress") == 0
    assert value(found, "mitigate_incidents_sla_breached", -1, priority=code, target="response") == 0

    # The response target passes unacknowledged: the sweeper records the breach.
    assert incident.response_due_at is not None
    incident_sla_sweep(now=incident.response_due_at + timedelta(seconds=1))
    found = samples(client)
    assert value(found, "mitigate_incidents_sla_breached", priority=code, target="response") == 1


def test_drills_are_not_counted_as_open_incidents(client, incident_factory):
    incident_factory(is_drill=True)
    found = samples(client)
    assert not [
        key for key in found if key[0] == "mitigate_incidents_open" and value(found, *key[:1], **dict(key[1]))
    ]


def test_action_runs_by_outcome_duration_and_approvals_pending(client):
    now = timezone.now()
    for seconds, status in ((3, RunStatus.SUCCEEDED), (45, RunStatus.SUCCEEDED), (700, RunStatus.FAILED)):
        ActionRunFactory(status=status, started_at=now - timedelta(seconds=seconds), finished_at=now)
    ActionRunFactory(status=RunStatus.REJECTED)
    ActionRunFactory(status=RunStatus.AWAITING_APPROVAL)
    ActionRunFactory(status=RunStatus.AWAITING_APPROVAL)
    ActionRunFactory(status=RunStatus.RUNNING, started_at=now)

    found = samples(client)
    runs = "mitigate_action_runs_finished_total"
    assert value(found, runs, outcome="succeeded") == 2
    assert value(found, runs, outcome="failed") == 1
    assert value(found, runs, outcome="rejected") == 1
    assert value(found, runs, -1, outcome="timed_out") == 0
    assert value(found, "mitigate_action_runs_active", status="awaiting_approval") == 2
    assert value(found, "mitigate_action_runs_active", status="running") == 1
    assert value(found, "mitigate_approvals_pending") == 2

    histogram = "mitigate_action_run_duration_seconds"
    assert value(found, f"{histogram}_bucket", outcome="succeeded", le="1.0") == 0
    assert value(found, f"{histogram}_bucket", outcome="succeeded", le="5.0") == 1
    assert value(found, f"{histogram}_bucket", outcome="succeeded", le="60.0") == 2
    assert value(found, f"{histogram}_bucket", outcome="succeeded", le="+Inf") == 2
    assert value(found, f"{histogram}_count", outcome="succeeded") == 2
    assert value(found, f"{histogram}_sum", outcome="succeeded") == pytest.approx(48)
    assert value(found, f"{histogram}_bucket", outcome="failed", le="600.0") == 0
    assert value(found, f"{histogram}_bucket", outcome="failed", le="1800.0") == 1
    assert value(found, f"{histogram}_count", -1, outcome="timed_out") == 0
    # Rejected runs never ran: no duration, no histogram of their own.
    assert (f"{histogram}_count", frozenset({("outcome", "rejected")})) not in found


def test_deliveries_by_state_and_channel_kind(client, user_factory):
    slack = Channel.objects.create(name="Ops Slack", kind=ChannelKind.SLACK_WEBHOOK)

    def delivery(status, **target):
        Delivery.objects.create(
            event_key=f"e-{Delivery.objects.count()}",
            target_key=f"t-{Delivery.objects.count()}",
            event_kind=EventKind.TEST,
            status=status,
            next_attempt_at=timezone.now(),
            **target,
        )

    delivery(DeliveryStatus.SENT, channel=slack)
    delivery(DeliveryStatus.SENT, channel=slack)
    delivery(DeliveryStatus.DEAD, channel=slack)
    delivery(DeliveryStatus.FAILED, user=user_factory(), contact_kind="sms", address="+15550100")

    found = samples(client)
    name = "mitigate_notification_deliveries"
    assert value(found, name, state="sent", channel_kind="slack_webhook") == 2
    assert value(found, name, state="dead", channel_kind="slack_webhook") == 1
    assert value(found, name, state="failed", channel_kind="sms") == 1


def test_celery_queue_lengths_on_redis(client, settings):
    url = "redis://127.0.0.1:6379/11"
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    connection.delete(
        *[f"{q}{REDIS_PRIORITY_SEPARATOR}{p}" if p else q for q in queue_names() for p in (0, 3, 6, 9)]
    )
    connection.rpush("default", "m1", "m2")
    connection.rpush(f"default{REDIS_PRIORITY_SEPARATOR}6", "m3")
    connection.rpush("periodic", "m4")
    try:
        with override_settings(CELERY_BROKER_URL=url):
            found = samples(client)
    finally:
        connection.delete("default", f"default{REDIS_PRIORITY_SEPARATOR}6", "periodic")
    assert value(found, "mitigate_celery_queue_length", queue="default") == 3
    assert value(found, "mitigate_celery_queue_length", queue="periodic") == 1
    assert value(found, "mitigate_celery_queue_length", -1, queue="deliveries") == 0
    assert value(found, "mitigate_scrape_part_up", part="celery_queues") == 1


def test_celery_queue_lengths_on_the_filesystem_broker(client, tmp_path):
    options = {"data_folder_in": str(tmp_path)}
    for name in ("1_a.default.msg", "2_b.default.msg", "3_c.paging.msg", "4_d.unknown.msg", "notes.txt"):
        (tmp_path / name).write_text("{}")
    with override_settings(
        CELERY_BROKER_URL="filesystem://localhost/", CELERY_BROKER_TRANSPORT_OPTIONS=options
    ):
        found = samples(client)
    assert value(found, "mitigate_celery_queue_length", queue="default") == 2
    assert value(found, "mitigate_celery_queue_length", queue="paging") == 1


def test_an_unreachable_broker_leaves_its_part_out_and_the_rest_stands(client):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:9/0"):
        found = samples(client)
    assert value(found, "mitigate_scrape_part_up", part="celery_queues") == 0
    assert not [key for key in found if key[0] == "mitigate_celery_queue_length"]
    assert value(found, "mitigate_approvals_pending", -1) == 0


def test_sweeps_record_their_last_success_when_celery_runs_them(client, settings):
    assert value(samples(client), "mitigate_sweep_interval_seconds", sweep="alerts-sweep") == 30
    # Celery's own signal, as a worker sends it after the task: only a sweep's success counts.
    sweep = sweep_alerts
    receivers.sweep_finished(sender=sweep, state="FAILURE")
    assert (
        "mitigate_sweep_last_success_timestamp_seconds",
        frozenset({("sweep", "alerts-sweep")}),
    ) not in samples(client)
    started = timezone.now().timestamp()
    sweep.apply()  # runs it here, signals included
    found = samples(client)
    assert value(found, "mitigate_sweep_last_success_timestamp_seconds", sweep="alerts-sweep") >= started
    assert value(found, "mitigate_scrape_part_up", part="sweeps") == 1
    cache.clear()
