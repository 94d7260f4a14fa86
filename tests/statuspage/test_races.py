"""Posting to the status page from several places at once (PostgreSQL only: SQLite serializes
whole transactions). Every update lands, the components end as the last word says, and incidents
naming the same components in opposite orders never deadlock: every writer locks components in
the order of their primary keys."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from common.actor import Actor
from statuspage.choices import ComponentStatus as Status
from statuspage.choices import PublicStatus
from statuspage.models import Component, ComponentStatusChange, PublicIncident
from statuspage.services.public_incidents import public_incident_open, public_update_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system()
THREADS = 12


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = call()
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


def test_concurrent_updates_all_land_and_no_incident_deadlocks_another():
    components = [Component.objects.create(name=f"C{i}") for i in range(6)]
    first = public_incident_open(
        by=SYSTEM,
        title="First",
        message="x",
        components={c: Status.DEGRADED for c in components},
        notify=False,
    )
    second = public_incident_open(
        by=SYSTEM,
        title="Second",
        message="x",
        # Named in the opposite order: a writer locking in this order would deadlock the other.
        components={c: Status.PARTIAL_OUTAGE for c in reversed(components)},
        notify=False,
    )

    def post(public: PublicIncident, i: int) -> Callable[[], Any]:
        statuses = [Status.DEGRADED, Status.MAJOR_OUTAGE]
        return lambda: public_update_post(
            public_incident=public,
            by=SYSTEM,
            status=PublicStatus.IDENTIFIED,
            message=f"update {i}",
            components={c: statuses[i % 2] for c in (components if i % 2 else reversed(components))},
            notify=False,
        )

    outcomes = together([post(first if i % 2 else second, i) for i in range(THREADS)])

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert first.updates.count() + second.updates.count() == 2 + THREADS
    # Each component ends as the worst its two incidents now say, and its history agrees.
    for component in Component.objects.all():
        held = component.affected_by.values_list("status", flat=True)
        expected = max(held, key=[Status.DEGRADED, Status.PARTIAL_OUTAGE, Status.MAJOR_OUTAGE].index)
        assert component.status == expected
        last = ComponentStatusChange.objects.filter(component=component).latest("at", "id")
        assert last.status == component.status
