"""Data other apps derive from incidents and keep exact (analytics' rollups). The incident services
tell the keepers what changed, inside their own transaction. Unlike common.events listeners, a
keeper writes to the database and its failure fails the change: derived rows commit with the
change or not at all. Lower apps call, higher apps register (DESIGN.md rule 9)."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Keeper:
    # Incidents whose analytics inputs (clocks, priority, cause, services, repeat, cost) changed.
    incidents_changed: Callable[..., object]  # (*, incident_ids)
    # Services whose type or owner team changed: every incident naming them is grouped anew.
    services_regrouped: Callable[..., object]  # (*, service_ids)
    # Incidents that named a service just deleted.
    service_removed: Callable[..., object]  # (*, incident_ids)


_keepers: dict[str, Keeper] = {}


def keeper_register(name: str, keeper: Keeper) -> None:
    """Keyed by name, so registering again (apps reloaded in tests) replaces instead of doubling."""
    _keepers[name] = keeper


def incidents_changed(incident_ids: Iterable[int]) -> None:
    ids = list(incident_ids)
    gathered = getattr(connection, "_incidents_changed_gathered", None)
    if gathered is not None:
        gathered.update(ids)
        return
    for keeper in list(_keepers.values()):
        keeper.incidents_changed(incident_ids=ids)


@contextmanager
def incidents_changes_gathered() -> Iterator[None]:
    """The incidents changed in the block are told to the keepers once, together, as the block
    ends (inside the caller's transaction, which must be open around it), rather than at each
    change: a batch of alerts opening ten incidents refreshes the rollups once. The keepers lock
    the rollup rows they add to (an opening locks its day's row) until commit, so at the end of
    the transaction they serialize concurrent batches for less time. An exception in the block
    tells no one: the transaction is rolled back with the changes. Nested: the outermost tells."""
    if getattr(connection, "_incidents_changed_gathered", None) is not None:
        yield
        return
    gathered: set[int] = set()
    connection._incidents_changed_gathered = gathered
    try:
        yield
    finally:
        connection._incidents_changed_gathered = None
    if gathered:
        incidents_changed(sorted(gathered))


def services_regrouped(service_ids: Iterable[int]) -> None:
    ids = list(service_ids)
    for keeper in list(_keepers.values()):
        keeper.services_regrouped(service_ids=ids)


def service_removed(incident_ids: Iterable[int]) -> None:
    ids = list(incident_ids)
    for keeper in list(_keepers.values()):
        keeper.service_removed(incident_ids=ids)
