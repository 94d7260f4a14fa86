import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from incidents.models import Incident, IncidentSequence

# What a deferred incident's reference is until references_assign gives it its number: unique
# (the column is), never an INC- reference, and never committed (assigned before the block ends).
PENDING_PREFIX = "~"


def reference_next(*, year: int) -> str:
    """Hand out the next INC-<year>-<nnnn> reference, gap-free and unique under concurrency."""
    return _references_take(year=year, count=1)[0]


def _references_take(*, year: int, count: int) -> list[str]:
    """The next `count` references of the year, consecutive.

    The UPDATE takes the sequence row's lock until the caller's transaction commits, so a second
    creator waits instead of reading the same numbers; a rolled-back creation gives its numbers back.
    """
    for _ in range(2):
        with transaction.atomic():
            if IncidentSequence.objects.filter(year=year).update(last_number=F("last_number") + count):
                last = IncidentSequence.objects.values_list("last_number", flat=True).get(year=year)
                return [f"INC-{year}-{number:04d}" for number in range(last - count + 1, last + 1)]
        try:
            # First incident of the year; a concurrent creator may insert the row first, so retry.
            with transaction.atomic():
                IncidentSequence.objects.create(year=year, last_number=0)
        except IntegrityError:
            pass
    raise RuntimeError(f"Could not allocate an incident reference for {year}")


def reference_for(*, incident: Incident, year: int) -> None:
    """Give a new (unsaved) incident its reference: at once, or, inside `references_deferred`,
    a pending one, numbered by `references_assign` (at the latest as the block ends)."""
    pending = getattr(connection, "_references_pending", None)
    if pending is None:
        incident.reference = reference_next(year=year)
        return
    incident.reference = PENDING_PREFIX + secrets.token_hex(8)
    pending.append((incident, year))


def reference_pending(incident: Incident) -> bool:
    return incident.reference.startswith(PENDING_PREFIX)


def references_assign() -> list[Incident]:
    """Number the incidents opened so far in `references_deferred`, in the order they were opened
    (one sequence UPDATE per year, one UPDATE of the incidents); returns them. Nothing outside it."""
    pending = getattr(connection, "_references_pending", None)
    if not pending:
        return []
    by_year: dict[int, list[Incident]] = {}
    for incident, year in pending:
        by_year.setdefault(year, []).append(incident)
    pending.clear()
    assigned = []
    for year in sorted(by_year):
        incidents = by_year[year]
        for incident, reference in zip(
            incidents, _references_take(year=year, count=len(incidents)), strict=True
        ):
            incident.reference = reference
            assigned.append(incident)
    Incident.objects.bulk_update(assigned, ["reference"])
    return assigned


@contextmanager
def references_deferred() -> Iterator[None]:
    """Incidents opened in the block (incident_create) get their numbers together as it ends,
    inside the caller's transaction, which must be open around it: the sequence row's lock, which
    serializes every opener until its commit, is then taken at the end of the transaction rather
    than at its first opening (a batch of alerts opening ten incidents held it for the whole
    batch, and the other worker's batch waited). Numbers stay gap-free and in opening order within
    the block. Until then an incident's reference is pending (reference_pending): a caller that
    shows it sooner (a response's parameters) calls references_assign first. Nested: the
    outermost assigns. An exception in the block assigns nothing (the transaction rolls back)."""
    if getattr(connection, "_references_pending", None) is not None:
        yield
        return
    connection._references_pending = []
    try:
        yield
        references_assign()
    finally:
        connection._references_pending = None
