"""alerts.services: ingestion of parsed payloads into alerts (sources and tokens: test_sources.py)."""

import copy
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import alerts.services.ingest
from alerts.models import Alert, AlertPayload
from alerts.parsers import parse
from alerts.services import alerts_ingest
from tests.alerts.conftest import load
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.django_db


def ingest(source, data):
    return alerts_ingest(source=source, payload=parse(source.kind, data), raw=data)


# After the fixture's alert resolved (at 15:00, see `single`): a recurrence, not a replay.
LATER = "2024-03-05T16:00:00Z"


def single(status="firing", fingerprint="fp-1", starts_at=None, **labels):
    data = load("alertmanager_firing_single.json")
    alert = data["alerts"][0]
    alert["status"] = status
    alert["fingerprint"] = fingerprint
    if starts_at:
        alert["startsAt"] = starts_at
    alert["labels"].update(labels)
    if status == "resolved":
        alert["endsAt"] = "2024-03-05T15:00:00Z"
    return data


def test_first_firing_alert_is_stored_with_the_raw_payload(make_source, service_factory):
    service = service_factory()
    source, _ = make_source(default_service=service)
    data = single()

    (alert,) = ingest(source, data)

    payload = AlertPayload.objects.get()
    assert payload.body == data
    assert payload.alert_count == 1
    assert alert.payload == payload
    assert alert.status == "firing"
    assert alert.fingerprint == "fp-1"
    assert alert.occurrence_count == 1
    assert alert.service == service
    assert alert.ends_at is None
    assert alert.processed is False
    assert alert.received_at == alert.last_received_at == payload.received_at


def test_same_payload_100_times_gives_one_alert(make_source):
    source, _ = make_source()
    data = single()
    for _ in range(100):
        ingest(source, data)

    alert = Alert.objects.get()
    assert alert.occurrence_count == 100
    assert alert.last_received_at > alert.received_at
    assert AlertPayload.objects.count() == 100


def test_repeat_refreshes_labels_and_annotations(make_source):
    source, _ = make_source()
    ingest(source, single())
    data = single()
    data["alerts"][0]["annotations"] = {"summary": "still down"}
    data["alerts"][0]["labels"]["severity"] = "critical"

    (alert,) = ingest(source, data)

    assert alert.annotations == {"summary": "still down"}
    assert alert.severity == "critical"
    assert Alert.objects.get().occurrence_count == 2


def test_mixed_batch(make_source):
    source, _ = make_source()
    alerts = ingest(source, load("alertmanager_batch_mixed.json"))

    assert [a.status for a in alerts] == ["firing", "resolved", "firing"]
    assert Alert.objects.count() == 3
    resolved = Alert.objects.get(fingerprint="a1b2c3d4e5f60002")
    assert resolved.ends_at is not None
    # The firing one whose endsAt is in the future (Alertmanager's resolve timeout) stays open.
    assert Alert.objects.get(fingerprint="a1b2c3d4e5f60003").ends_at is None


def test_resolve_closes_the_open_alert_and_a_later_firing_opens_a_new_one(make_source):
    source, _ = make_source()
    (opened,) = ingest(source, single())
    (resolved,) = ingest(source, single("resolved"))

    assert resolved.pk == opened.pk
    assert resolved.status == "resolved"
    assert resolved.ends_at.isoformat() == "2024-03-05T15:00:00+00:00"

    (reopened,) = ingest(source, single(starts_at=LATER))
    assert reopened.pk != opened.pk
    assert reopened.status == "firing"
    assert reopened.occurrence_count == 1
    assert Alert.objects.filter(fingerprint="fp-1").count() == 2


def test_resolve_for_an_unknown_alert_is_recorded_once(make_source):
    source, _ = make_source()
    first = ingest(source, single("resolved", fingerprint="never-seen"))
    again = ingest(source, single("resolved", fingerprint="never-seen"))

    assert Alert.objects.filter(fingerprint="never-seen").count() == 1
    assert first[0].pk == again[0].pk
    assert first[0].status == "resolved"


def test_repeated_resolve_does_not_duplicate(make_source):
    source, _ = make_source()
    ingest(source, single())
    ingest(source, single("resolved"))
    ingest(source, single("resolved"))

    assert Alert.objects.count() == 1


def test_fingerprints_are_per_source(make_source):
    one, _ = make_source(name="One")
    two, _ = make_source(name="Two")
    ingest(one, single())
    ingest(two, single())

    assert Alert.objects.filter(status="firing").count() == 2


def test_a_failure_leaves_nothing_half_written(make_source, monkeypatch):
    source, _ = make_source()
    data = load("alertmanager_batch_mixed.json")
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setattr(alerts.services.ingest._Plan, "resolve", failing)
    with pytest.raises(RuntimeError):
        ingest(source, data)

    assert calls
    assert AlertPayload.objects.count() == 0
    assert Alert.objects.count() == 0


def test_database_allows_one_firing_alert_per_source_and_fingerprint(make_source):
    source, _ = make_source()
    (alert,) = ingest(source, single())
    duplicate = copy.copy(alert)
    duplicate.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()

    # Resolved rows are history: any number of them may share the fingerprint.
    for _ in range(2):
        Alert.objects.create(
            source=source,
            fingerprint="fp-1",
            status="resolved",
            starts_at=timezone.now(),
            received_at=timezone.now(),
            last_received_at=timezone.now(),
        )
    assert Alert.objects.filter(fingerprint="fp-1").count() == 3


def test_lost_insert_race_updates_the_row_the_other_request_created(make_source, monkeypatch):
    """Simulate the race: our read finds no open alert, but another request inserted it before us.
    The unique index refuses our insert and the payload is replayed onto the other request's row."""
    source, _ = make_source()
    ingest(source, single())

    real = alerts.services.ingest._latest_alerts
    misses = []

    def stale_once(src, fingerprints):
        if not misses:
            misses.append(1)
            return []
        return real(src, fingerprints)

    # The general path's race (the one-statement path meets it in ON CONFLICT: test_ingest_upsert.py).
    monkeypatch.setattr(alerts.services.ingest, "upsert_applies", lambda payload: False)
    monkeypatch.setattr(alerts.services.ingest, "_latest_alerts", stale_once)
    (alert,) = ingest(source, single())

    assert misses
    assert Alert.objects.get().occurrence_count == 2
    assert alert.occurrence_count == 2
    assert AlertPayload.objects.count() == 2  # the lost attempt's payload row was rolled back


def test_a_race_lost_every_time_gives_up_with_the_integrity_error(make_source, monkeypatch):
    source, _ = make_source()
    ingest(source, single())
    monkeypatch.setattr(alerts.services.ingest, "upsert_applies", lambda payload: False)
    monkeypatch.setattr(alerts.services.ingest, "_latest_alerts", lambda src, fingerprints: [])

    with pytest.raises(IntegrityError):
        ingest(source, single())
    assert Alert.objects.get().occurrence_count == 1
    assert AlertPayload.objects.count() == 1


# --- batches --------------------------------------------------------------------------------------


def batch(fingerprints, status="firing", starts_at=None):
    data = single(starts_at=starts_at)
    template = data["alerts"][0]
    data["alerts"] = [
        {**copy.deepcopy(template), "fingerprint": fingerprint, "status": status}
        for fingerprint in fingerprints
    ]
    for alert in data["alerts"]:
        if status == "resolved":
            alert["endsAt"] = "2024-03-05T15:00:00Z"
    return data


def test_batch_of_100_costs_a_constant_number_of_queries(make_source, django_assert_max_num_queries):
    source, _ = make_source()
    fingerprints = [f"fp-{i:03d}" for i in range(100)]
    ingest(source, batch(fingerprints[:50]))  # half of them open already

    # payload, one locking read, one bulk update, one bulk insert (savepoint and release in tests);
    # SQLite caps a statement at 999 parameters, so there the insert comes in a few pieces.
    with django_assert_max_num_queries(6 if ON_POSTGRES else 10):
        landed = ingest(source, batch(fingerprints))

    assert [alert.fingerprint for alert in landed] == fingerprints
    assert all(alert.pk for alert in landed)
    assert Alert.objects.count() == 100
    assert sorted(Alert.objects.values_list("occurrence_count", flat=True)) == [1] * 50 + [2] * 50
    payload = AlertPayload.objects.latest("id")
    assert payload.alert_count == 100
    assert set(Alert.objects.values_list("payload", flat=True)) == {payload.pk}


def test_duplicates_inside_one_payload_land_on_one_alert(make_source):
    source, _ = make_source()
    landed = ingest(source, batch(["fp-a", "fp-b", "fp-a", "fp-a"]))

    assert [alert.fingerprint for alert in landed] == ["fp-a", "fp-b", "fp-a", "fp-a"]
    assert landed[0] is landed[2] is landed[3]
    assert Alert.objects.get(fingerprint="fp-a").occurrence_count == 3
    assert Alert.objects.get(fingerprint="fp-b").occurrence_count == 1


def test_fire_resolve_fire_in_one_payload(make_source):
    """Order within a payload counts: the second firing opens a new row after the resolve."""
    source, _ = make_source()
    ingest(source, single(fingerprint="fp-old"))
    data = batch(["fp-new", "fp-old"])
    data["alerts"] += batch(["fp-new", "fp-old"], status="resolved")["alerts"]
    data["alerts"] += batch(["fp-new", "fp-old"], starts_at=LATER)["alerts"]

    landed = ingest(source, data)

    # Each parsed alert names the row it landed on: the first firing and the resolve share one.
    assert [alert.pk for alert in landed[:4]] == [landed[0].pk, landed[1].pk] * 2
    assert {alert.pk for alert in landed[4:]}.isdisjoint(alert.pk for alert in landed[:4])
    for fingerprint in ("fp-new", "fp-old"):
        rows = list(Alert.objects.filter(fingerprint=fingerprint).order_by("id"))
        assert [row.status for row in rows] == ["resolved", "firing"]
        assert rows[1].occurrence_count == 1
    assert Alert.objects.get(fingerprint="fp-old", status="resolved").occurrence_count == 2
    assert all(alert.processed is False for alert in Alert.objects.all())


def test_a_firing_replayed_after_its_resolve_is_counted_not_reopened(make_source):
    """Within one payload or across payloads: a firing that started before the alert ended is an
    old notification. Only one that starts later (LATER) opens a new alert."""
    source, _ = make_source()
    data = batch(["fp-a"])
    data["alerts"] += batch(["fp-a"], status="resolved")["alerts"]
    data["alerts"] += batch(["fp-a"])["alerts"]

    landed = ingest(source, data)
    (again,) = ingest(source, single(fingerprint="fp-a"))

    assert {alert.pk for alert in landed} == {again.pk}
    alert = Alert.objects.get()
    assert (alert.status, alert.replays, alert.occurrence_count) == ("resolved", 2, 1)
    (recurred,) = ingest(source, single(fingerprint="fp-a", starts_at=LATER))
    assert recurred.status == "firing" and Alert.objects.count() == 2


def test_resolved_twice_in_one_payload_for_an_unseen_alert_is_recorded_once(make_source):
    source, _ = make_source()
    landed = ingest(source, batch(["never-seen", "never-seen"], status="resolved"))

    assert landed[0] is landed[1]
    assert Alert.objects.get().status == "resolved"


def test_one_processing_message_per_payload(make_source, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("alerts.tasks.process_alerts.apply_async", lambda **kw: sent.append(kw["kwargs"]))
    source, _ = make_source()
    with django_capture_on_commit_callbacks(execute=True):
        landed = ingest(source, batch([f"fp-{i}" for i in range(100)]))

    assert sent == [{"alert_ids": sorted(alert.pk for alert in landed)}]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_opening_the_same_alerts_give_one_row_each(make_source):
    """Many payloads naming the same new fingerprints, in different orders, at once: every repeat is
    counted on one firing row per fingerprint, and none deadlocks."""
    source, _ = make_source()
    fingerprints = [f"fp-{i:02d}" for i in range(20)]
    threads = 8
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def send(n):
        try:
            order = fingerprints[n:] + fingerprints[:n]
            barrier.wait()
            ingest(source, batch(order))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert Alert.objects.count() == len(fingerprints)
    assert set(Alert.objects.values_list("occurrence_count", flat=True)) == {threads}
    assert AlertPayload.objects.count() == threads
