"""The one-statement ingestion of firing payloads on PostgreSQL (alerts.services.ingest_upsert):
the rules of the general path (test_ingest.py runs on both), its races, and the webhook's lean path."""

import json
import threading

import pytest
from django.db import connection

from alerts.models import Alert, AlertPayload
from alerts.parsers import parse
from alerts.services import alerts_ingest, alerts_receive
from alerts.services.ingest_upsert import upsert_applies
from tests.alerts.support import am_alert, am_payload

pytestmark = pytest.mark.django_db


def ingest(source, data, body=None):
    return alerts_ingest(source=source, payload=parse(source.kind, data), raw=data, body=body)


def test_which_payloads_take_the_one_statement(make_source):
    firing = parse("alertmanager", am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b")))
    mixed = parse("alertmanager", am_payload(am_alert(fingerprint="a"), am_alert(status="resolved")))
    twice = parse("alertmanager", am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="a")))
    empty = parse("alertmanager", am_payload())

    on_postgres = connection.vendor == "postgresql"
    assert upsert_applies(firing) is on_postgres
    assert not upsert_applies(mixed)
    assert not upsert_applies(twice)
    assert not upsert_applies(empty)


@pytest.mark.postgres
def test_a_firing_batch_is_one_statement(make_source, service_factory, django_assert_num_queries):
    service = service_factory()
    source, _ = make_source(default_service=service)
    data = am_payload(*(am_alert(fingerprint=f"fp-{i}", instance=f"web-{i}:9100") for i in range(100)))
    ingest(source, am_payload(*data["alerts"][:50]))

    with django_assert_num_queries(1):
        landed = ingest(source, data)

    assert [alert.fingerprint for alert in landed] == [f"fp-{i}" for i in range(100)]
    payload = AlertPayload.objects.latest("id")
    assert payload.body == data and payload.alert_count == 100
    rows = {alert.fingerprint: alert for alert in Alert.objects.all()}
    assert len(rows) == 100
    assert [rows[f"fp-{i}"].occurrence_count for i in (0, 49, 50, 99)] == [2, 2, 1, 1]
    assert {alert.payload_id for alert in rows.values()} == {payload.pk}
    assert {alert.service_id for alert in rows.values()} == {service.pk}
    # What it returns is what is stored, field for field (JSON and times converted as the ORM does).
    assert landed[7].labels == rows["fp-7"].labels == data["alerts"][7]["labels"]
    assert landed[7].starts_at == rows["fp-7"].starts_at
    assert (landed[7].pk, landed[7].processed, landed[7].status) == (rows["fp-7"].pk, False, "firing")


@pytest.mark.postgres
def test_the_body_is_stored_as_posted(make_source):
    source, _ = make_source()
    data = am_payload(am_alert(fingerprint="a"))
    body = json.dumps(data, indent=2)

    ingest(source, data, body=body)

    assert AlertPayload.objects.get().body == data


@pytest.mark.postgres
def test_a_repeat_refreshes_what_the_general_path_refreshes(make_source):
    source, _ = make_source()
    (first,) = ingest(source, am_payload(am_alert(fingerprint="a")))
    again = am_payload(am_alert("Renamed", fingerprint="a", severity="warning", team="db"))

    (second,) = ingest(source, again)

    alert = Alert.objects.get()
    assert second.pk == first.pk == alert.pk
    assert (alert.name, alert.severity, alert.occurrence_count) == ("Renamed", "warning", 2)
    assert alert.labels["team"] == "db"
    assert alert.starts_at == first.starts_at  # a repeat keeps its start
    assert alert.last_received_at > first.last_received_at


@pytest.mark.postgres
def test_a_replayed_firing_is_counted_on_the_resolved_alert(make_source):
    source, _ = make_source()
    ingest(source, am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b")))
    resolved = am_alert(fingerprint="a", status="resolved")
    resolved["endsAt"] = "2026-11-22T11:00:00Z"
    ingest(source, am_payload(resolved))

    # "a" started before it ended: a replay, not a new alert; "b" is a plain repeat.
    landed = ingest(source, am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b")))

    a = Alert.objects.get(fingerprint="a")
    assert (a.status, a.replays, landed[0].pk) == ("resolved", 1, a.pk)
    assert Alert.objects.get(fingerprint="b").occurrence_count == 2
    # One that starts after the end opens a new alert.
    later = ingest(source, am_payload(am_alert(fingerprint="a", starts_at="2026-11-22T12:00:00Z")))
    assert later[0].status == "firing" and Alert.objects.filter(fingerprint="a").count() == 2


def receive(source, data):
    return alerts_receive(source=source, payload=parse(source.kind, data), raw=data, body=json.dumps(data))


@pytest.mark.postgres
def test_the_webhooks_lean_path_lands_where_the_full_one_does(
    make_source, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """alerts_receive (the webhook's: ids only) follows the same rules in the same one statement:
    a new alert, a repeat and a replay answered by the ids of their rows, and one message for the
    unprocessed ones."""
    source, _ = make_source()
    ingest(source, am_payload(am_alert(fingerprint="a"), am_alert(fingerprint="b")))
    resolved = am_alert(fingerprint="a", status="resolved")
    resolved["endsAt"] = "2026-11-22T11:00:00Z"
    ingest(source, am_payload(resolved))
    Alert.objects.filter(fingerprint="b").update(processed=True)
    data = am_payload(am_alert(fingerprint="c"), am_alert(fingerprint="a"), am_alert(fingerprint="b"))

    with django_capture_on_commit_callbacks() as callbacks, django_assert_num_queries(1):
        ids = receive(source, data)

    rows = {alert.fingerprint: alert for alert in Alert.objects.all()}
    assert ids == [rows["c"].pk, rows["a"].pk, rows["b"].pk]
    assert (rows["a"].status, rows["a"].replays, rows["b"].occurrence_count) == ("resolved", 1, 2)
    assert rows["c"].labels == data["alerts"][0]["labels"]
    assert rows["c"].starts_at == parse(source.kind, data).alerts[0].starts_at
    assert AlertPayload.objects.latest("id").body == data
    # "b" was processed and is only repeated: the message names the others.
    (callback,) = callbacks
    assert callback.args[1:] == ("alert_ids", sorted([rows["c"].pk, rows["a"].pk]))


def test_the_webhooks_lean_path_takes_the_general_path_for_the_rest(make_source):
    """A payload the one statement does not take (or SQLite) is stored by alerts_ingest; the ids
    are those of the rows it landed on."""
    source, _ = make_source()
    (opened,) = ingest(source, am_payload(am_alert(fingerprint="a")))

    ids = receive(source, am_payload(am_alert(fingerprint="a", status="resolved"), am_alert(fingerprint="b")))

    assert ids == [opened.pk, Alert.objects.get(fingerprint="b").pk]
    assert Alert.objects.get(pk=opened.pk).status == "resolved"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_posts_of_one_alert_give_one_row(make_source):
    """The same new alert posted by 8 requests at once (an HA pair of Alertmanagers, retries): they
    meet at the unique index, and every post is counted on the one row."""
    source, _ = make_source()
    data = am_payload(am_alert(fingerprint="raced"))
    threads, barrier, errors = 8, threading.Barrier(8), []

    def send():
        try:
            barrier.wait()
            ingest(source, data)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert list(Alert.objects.values_list("occurrence_count", flat=True)) == [threads]
    assert AlertPayload.objects.count() == threads


def test_the_webhook_skips_the_middleware_it_does_not_need(client, make_source):
    """Answered from common.middleware.LeanPathMiddleware: no session, CSRF or CSP work for it."""
    _, token = make_source()
    body = json.dumps(am_payload(am_alert()))

    response = client.post(f"/hooks/{token}/", data=body, content_type="application/json")
    assert response.status_code == 202
    assert "Content-Security-Policy" not in response
    assert client.get("/admin/login/").has_header("Content-Security-Policy")  # the others still pass
