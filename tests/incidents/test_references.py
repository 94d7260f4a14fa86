"""Incident references: INC-<year>-<nnnn>, per-year, gap-free, unique under concurrency."""

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError
from incidents.models import Incident, IncidentSequence, Priority
from incidents.services import incident_create


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
