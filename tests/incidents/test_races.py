"""Responders racing on one incident: one winner, clear conflicts for the rest, one timeline event.

PostgreSQL only: SQLite serializes whole transactions, so there is no race to lose there. Each test
commits for real: threads see only committed rows.
"""

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from common.actor import Actor, Source
from common.exceptions import ConflictError
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident, Priority, TimelineEvent
from incidents.services import (
    TRANSITION_SERVICES,
    incident_auto_resolve,
    incident_create,
    incident_lock,
    incident_sla_sweep,
)
from tests.factories import UserFactory
from tests.incidents.support import AUTOMATION, drive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
S = IncidentStatus


def race(pk: int, calls: list[Callable[[Incident], Any]]) -> list[Any]:
    """Run each call in its own thread, all released at once on an instance each loaded beforehand.

    Returns what each call returned or raised, in order.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[Incident], Any]) -> None:
        try:
            incident = Incident.objects.get(pk=pk)
            barrier.wait(timeout=30)
            outcomes[i] = call(incident)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.fixture
def responder_actor():
    return Actor(user=UserFactory(username="racer", groups=["Responder"]), source=Source.API)


def opened(actor: Actor, path: str = "new") -> Incident:
    incident = incident_create(
        by=actor, title="Checkout returns 502", priority=Priority.objects.get(code="P2")
    )
    return drive(incident, path, human=actor)


RACES = [
    ("acknowledge", "new", {}, S.IN_PROGRESS, EventKind.ACKNOWLEDGED),
    ("hold", "in_progress", {"reason": "Vendor"}, S.ON_HOLD, EventKind.HELD),
    ("resume", "on_hold", {}, S.IN_PROGRESS, EventKind.RESUMED),
    ("resolve", "in_progress", {"summary": "Fixed"}, S.RESOLVED, EventKind.RESOLVED),
    ("reopen", "resolved", {"reason": "Back"}, S.IN_PROGRESS, EventKind.REOPENED),
    ("close", "resolved", {}, S.CLOSED, EventKind.CLOSED),
    ("dismiss", "new", {"reason": "Noise"}, S.CLOSED, EventKind.DISMISSED),
    ("auto_resolve", "new", {"summary": "Cleared"}, S.RESOLVED, EventKind.AUTO_RESOLVED),
]


@pytest.mark.parametrize(("name", "path", "kwargs", "target", "kind"), RACES, ids=[r[0] for r in RACES])
def test_twenty_responders_one_winner(name, path, kwargs, target, kind, responder_actor):
    incident = opened(responder_actor, path)
    if name == "auto_resolve":
        service, by = incident_auto_resolve, AUTOMATION
    else:
        service, by = TRANSITION_SERVICES[name], responder_actor
    events_before = Counter(TimelineEvent.objects.filter(incident=incident).values_list("kind", flat=True))

    outcomes = race(incident.pk, [lambda i: service(incident=i, by=by, **kwargs)] * THREADS)

    winners = [o for o in outcomes if isinstance(o, Incident)]
    losers = [o for o in outcomes if not isinstance(o, Incident)]
    assert len(winners) == 1
    assert winners[0].status == target
    assert len(losers) == THREADS - 1
    assert all(type(o) is ConflictError for o in losers), {type(o).__name__ for o in losers}
    assert all(o.extra == {"status": target} for o in losers)
    assert Incident.objects.get(pk=incident.pk).status == target
    events_after = Counter(TimelineEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    assert events_after - events_before == Counter({kind: 1})


def test_acknowledge_against_dismiss(responder_actor):
    incident = opened(responder_actor)
    half = THREADS // 2
    calls = [lambda i: TRANSITION_SERVICES["acknowledge"](incident=i, by=responder_actor)] * half + [
        lambda i: TRANSITION_SERVICES["dismiss"](incident=i, by=responder_actor, reason="Noise")
    ] * half

    outcomes = race(incident.pk, calls)

    winners = [o for o in outcomes if isinstance(o, Incident)]
    assert len(winners) == 1
    assert sum(type(o) is ConflictError for o in outcomes) == THREADS - 1
    final = Incident.objects.get(pk=incident.pk)
    assert final.status == winners[0].status
    kinds = list(TimelineEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    expected = EventKind.ACKNOWLEDGED if final.status == S.IN_PROGRESS else EventKind.DISMISSED
    assert sorted(kinds) == sorted([EventKind.CREATED, expected])
    if final.status == S.CLOSED:
        assert (final.acknowledged_at, final.assignee) == (None, None)
    else:
        assert (final.closed_at, final.dismissal_reason) == (None, "")


def test_the_sweeper_is_not_blocked_by_work_on_another_incident(responder_actor):
    """Locking one incident must not lock its priority row: the sweeper skips locked rows, and would
    otherwise skip every incident sharing that priority while anyone works on one of them."""
    busy = opened(responder_actor)
    overdue = opened(responder_actor)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                incident_lock(incident=Incident.objects.get(pk=busy.pk))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        recorded = incident_sla_sweep(now=overdue.response_due_at)
    finally:
        release.set()
        holder.join(timeout=30)

    assert recorded == 1
    assert Incident.objects.get(pk=overdue.pk).response_breached_at is not None
    assert Incident.objects.get(pk=busy.pk).response_breached_at is None
