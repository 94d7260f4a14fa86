"""Incident references: INC-<year>-<nnnn>, per-year, gap-free, unique under concurrency; opened
in a deferred block (a batch of alerts), numbered together as it ends."""

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError
from incidents.derived import incidents_changes_gathered
from incidents.models import Incident, IncidentSequence, Priority
from incidents.services import incident_create
from incidents.services.references import reference_pending, references_assign, references_deferred


@pytest.mark.parametrize(
    ("last_number", "reference"),
    [(0, "INC-2026-0001"), (41, "INC-2026-0042"), (9998, "INC-2026-9999"), (9999, "INC-2026-10000")],
)
def test_format(last_number, reference, open_incident, clock):
    IncidentSequence.objects.create(year=2026, last_number=last_number)
    incident = open_incident(detected_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    assert incident.reference == reference
    assert Incident.objects.get(pk=incident.pk).reference == reference


def test_numbers_follow_each_other(open_incident):
    refs = [open_incident().reference for _ in range(3)]
    year = timezone.now().year
    assert refs == [f"INC-{year}-0001", f"INC-{year}-0002", f"INC-{year}-0003"]


def test_numbering_restarts_each_year_of_detection(open_incident, clock):
    def at(year, month, day):
        return open_incident(detected_at=datetime(year, month, day, 12, 0, tzinfo=UTC)).reference

    assert at(2025, 12, 30) == "INC-2025-0001"
    assert at(2025, 12, 31) == "INC-2025-0002"
    assert at(2026, 1, 1) == "INC-2026-0001"
    # A late report of last year's incident continues last year's numbers.
    assert at(2025, 11, 2) == "INC-2025-0003"
    assert at(2026, 2, 1) == "INC-2026-0002"
    assert dict(IncidentSequence.objects.values_list("year", "last_number")) == {2025: 3, 2026: 2}


@pytest.mark.parametrize(
    ("time_zone", "reference"), [("UTC", "INC-2025-0001"), ("Asia/Tokyo", "INC-2026-0001")]
)
def test_the_year_is_taken_in_the_configured_time_zone(time_zone, reference, open_incident, clock, settings):
    settings.TIME_ZONE = time_zone
    new_year_in_tokyo = datetime(2026, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    same_instant_in_utc = new_year_in_tokyo.astimezone(UTC)
    assert open_incident(detected_at=new_year_in_tokyo).reference == reference
    assert open_incident(detected_at=same_instant_in_utc).reference[:9] == reference[:9]


def test_a_rolled_back_creation_gives_its_number_back(open_incident):
    first = open_incident()
    with pytest.raises(RuntimeError), transaction.atomic():
        open_incident()
        raise RuntimeError("the caller's transaction failed after the incident was created")
    third = open_incident()
    year = first.detected_at.year
    assert (first.reference, third.reference) == (f"INC-{year}-0001", f"INC-{year}-0002")
    assert Incident.objects.count() == 2


def test_a_refused_creation_consumes_no_number(open_incident, viewer, priorities):
    first = open_incident()
    with pytest.raises(PermissionDeniedError):
        incident_create(by=Actor(user=viewer, source=Source.API), title="Nope", priority=priorities["P3"])
    with pytest.raises(ValidationError):
        open_incident(title="  ")
    year = first.detected_at.year
    assert open_incident().reference == f"INC-{year}-0002"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_unique_consecutive_references():
    threads_count = 20
    detected_at = timezone.now()
    year = detected_at.year
    priority = Priority.objects.get(code="P3")
    barrier = threading.Barrier(threads_count)
    references: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            incident = incident_create(
                by=Actor.system(source=Source.SYSTEM, label="load-test"),
                title=f"Alert storm {i}",
                priority=priority,
                detected_at=detected_at,
            )
            with lock:
                references.append(incident.reference)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(references) == [f"INC-{year}-{n:04d}" for n in range(1, threads_count + 1)]
    assert IncidentSequence.objects.get(year=year).last_number == threads_count


def _create(title: str, **kwargs) -> Incident:
    return incident_create(
        by=Actor.system(source=Source.SYSTEM, label="test"),
        title=title,
        priority=Priority.objects.get(code="P3"),
        **kwargs,
    )


def test_incidents_opened_in_a_deferred_block_are_numbered_together_as_it_ends(db):
    year = timezone.now().year
    IncidentSequence.objects.create(year=year, last_number=0)
    with CaptureQueriesContext(connection) as captured, transaction.atomic(), references_deferred():
        opened = [_create(f"Storm {i}") for i in range(3)]
        assert all(reference_pending(incident) for incident in opened)
        assert IncidentSequence.objects.get(year=year).last_number == 0  # No number taken yet.
        with references_deferred():  # Nested: the outermost block numbers them.
            opened.append(_create("Storm 3"))
        assert reference_pending(opened[-1])
    expected = [f"INC-{year}-{n:04d}" for n in range(1, 5)]
    assert [incident.reference for incident in opened] == expected  # In the order they were opened.
    assert list(Incident.objects.order_by("pk").values_list("reference", flat=True)) == expected
    assert IncidentSequence.objects.get(year=year).last_number == 4
    # One sequence UPDATE for the four, rather than one each.
    assert sum('UPDATE "incidents_incidentsequence"' in q["sql"] for q in captured) == 1
    assert _create("After").reference == f"INC-{year}-0005"


def test_numbers_can_be_given_before_the_block_ends(db):
    year = timezone.now().year
    with transaction.atomic(), references_deferred():
        first = _create("First")
        assert references_assign() == [first]
        assert first.reference == f"INC-{year}-0001"
        second = _create("Second")
    assert second.reference == f"INC-{year}-0002"
    assert Incident.objects.get(pk=first.pk).reference == first.reference


def test_a_failed_deferred_block_takes_no_number(db):
    year = timezone.now().year
    with pytest.raises(RuntimeError), transaction.atomic(), references_deferred():
        _create("Rolled back")
        raise RuntimeError("the batch failed")
    assert not Incident.objects.exists()
    assert _create("Kept").reference == f"INC-{year}-0001"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deferred_block_leaves_the_sequence_to_other_creators_until_it_ends():
    """The sequence row is locked at the block's end, not at its first opening: another creator
    meanwhile does not wait for the block's transaction (its lock_timeout would fail it). With the
    rollups kept at the end too (incidents.derived.incidents_changes_gathered), as processing does:
    their rows would make it wait otherwise."""
    year = timezone.now().year
    other: list = []

    def create_elsewhere() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '10s'")
                other.append(_create("Elsewhere").reference)
        except Exception as exc:
            other.append(exc)
        finally:
            connection.close()

    with transaction.atomic(), incidents_changes_gathered(), references_deferred():
        mine = [_create("Mine 0"), _create("Mine 1")]
        thread = threading.Thread(target=create_elsewhere)
        thread.start()
        thread.join(timeout=60)
    assert other == [f"INC-{year}-0001"]
    assert [incident.reference for incident in mine] == [f"INC-{year}-0002", f"INC-{year}-0003"]
