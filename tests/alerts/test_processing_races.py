"""Processing under concurrency on PostgreSQL: alerts of one group processed at the same moment join
one incident, and the same alert processed twice at once is processed once."""

import threading

import pytest
from django.db import connection

from alerts.models import Alert
from alerts.services import alert_rule_save
from alerts.services.processing import alert_process, alerts_process
from common.actor import Actor
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent
from tests.alerts.support import am_alert, am_payload, ingest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 10


def at_once(alert_ids: list[int]) -> list:
    barrier = threading.Barrier(len(alert_ids))
    outcomes: list = [None] * len(alert_ids)

    def run(i: int, alert_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = alert_process(alert_id=alert_id)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, pk)) for i, pk in enumerate(alert_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_alerts_of_one_group_processed_together_open_one_incident(make_source):
    alert_rule_save(
        by=Actor.system(), data={"name": "Down", "incident_policy": "attach", "group_by": ["alertname"]}
    )
    source, _ = make_source()
    stored = ingest(
        source,
        am_payload(*(am_alert(fingerprint=f"fp-{i}", instance=f"web-{i}:9100") for i in range(THREADS))),
    )

    outcomes = at_once([a.pk for a in stored])

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert Incident.objects.count() == 1
    assert Alert.objects.filter(incident__isnull=False, processed=True).count() == THREADS
    assert Alert.objects.filter(opened_incident=True).count() == 1


def test_one_alert_processed_by_two_workers_at_once_is_processed_once(make_source):
    alert_rule_save(by=Actor.system(), data={"name": "Down"})
    source, _ = make_source()
    (alert,) = ingest(source, am_payload(am_alert()))

    outcomes = at_once([alert.pk] * THREADS)

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sum(o is not None for o in outcomes) == 1
    assert Incident.objects.count() == 1


def test_overlapping_batches_processed_at_once_process_each_alert_once(make_source):
    """Messages naming overlapping alerts (a payload's, the sweeper's, a redelivery), processed by
    workers at the same moment: every alert once, one incident per group, one event per alert, and
    no deadlock between the batches' locks."""
    alert_rule_save(
        by=Actor.system(),
        data={"name": "Grouped", "incident_policy": "attach", "group_by": ["alertname"]},
    )
    source, _ = make_source()
    stored = ingest(
        source,
        am_payload(
            *(
                am_alert(f"Group{i % 3}", fingerprint=f"fp-{i}", instance=f"web-{i}:9100")
                for i in range(THREADS * 3)
            )
        ),
    )
    ids = [a.pk for a in stored]
    batches = [ids[i : i + 9] for i in range(0, len(ids), 3)][:THREADS]  # each overlaps the next

    barrier = threading.Barrier(len(batches))
    outcomes: list = [None] * len(batches)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = alerts_process(alert_ids=list(reversed(batches[i])) if i % 2 else batches[i])
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not [o for o in outcomes if isinstance(o, Exception)]
    covered = {pk for batch in batches for pk in batch}
    assert sum(outcomes) == len(covered)  # each alert counted by the one batch that processed it
    assert Alert.objects.filter(pk__in=covered, processed=True, processing_attempts=0).count() == len(covered)
    assert Incident.objects.count() == 3
    assert Alert.objects.filter(opened_incident=True).count() == 3
    events = TimelineEvent.objects.filter(kind=EventKind.ALERT_ATTACHED)
    assert sorted(events.values_list("details__alert", flat=True)) == sorted(covered)


def test_joins_and_openers_at_once_keep_one_incident_per_group(make_source):
    """A group with an open incident is joined without its rule's lock (alerts.services.processing
    ._groups_find); a group without one is opened under it. Batches joining the open group and
    batches opening a new group, at once: every alert once, the open group's incident holds its
    alerts, the new group gets exactly one incident."""
    alert_rule_save(
        by=Actor.system(),
        data={"name": "Grouped", "incident_policy": "attach", "group_by": ["alertname"]},
    )
    source, _ = make_source()
    (opener,) = ingest(source, am_payload(am_alert("Open", fingerprint="opener")))
    alerts_process(alert_ids=[opener.pk])
    opener.refresh_from_db()
    stored = ingest(
        source,
        am_payload(
            *(
                am_alert("Open" if i % 2 else "New", fingerprint=f"fp-{i}", instance=f"web-{i}:9100")
                for i in range(THREADS * 2)
            )
        ),
    )
    batches = [[a.pk for a in stored[i : i + 2]] for i in range(0, len(stored), 2)]

    barrier = threading.Barrier(len(batches))
    outcomes: list = [None] * len(batches)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = alerts_process(alert_ids=batches[i])
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == [2] * len(batches)
    got = Alert.objects.filter(pk__in=[a.pk for a in stored])
    assert {a.incident_id for a in got if a.name == "Open"} == {opener.incident_id}
    new = {a.incident_id for a in got if a.name == "New"}
    assert len(new) == 1 and None not in new
    assert Incident.objects.count() == 2
    assert got.filter(opened_incident=True).count() == 1
    attached = TimelineEvent.objects.filter(kind=EventKind.ALERT_ATTACHED).values_list(
        "details__alert", flat=True
    )
    assert sorted(pk for pk in attached if pk != opener.pk) == sorted(a.pk for a in stored)
