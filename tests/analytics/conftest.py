"""The analytics tests' SMTP server, and the report definition and June incidents the report
tests (test_reports*.py) share."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.services.reports import report_save
from common.actor import Actor, Source
from incidents.models import Priority
from tests.factories import IncidentFactory
from tests.postmortems.conftest import smtp_server

__all__ = ["smtp_server"]

JUNE = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
JULY = (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC))
SYSTEM = Actor.system(Source.TASK)


def incident(day: int, priority: str, *, resolve_minutes: int | None, root_cause: str = ""):
    detected = JUNE[0] + timedelta(days=day, hours=10)
    return IncidentFactory(
        priority=Priority.objects.get(code=priority),
        started_at=detected - timedelta(minutes=5),
        detected_at=detected,
        acknowledged_at=detected + timedelta(minutes=10),
        resolved_at=detected + timedelta(minutes=resolve_minutes) if resolve_minutes else None,
        status="resolved" if resolve_minutes else "in_progress",
        root_cause_category=root_cause,
    )


@pytest.fixture
def june_incidents(db):
    return [
        incident(1, "P1", resolve_minutes=60, root_cause="deployment"),
        incident(3, "P2", resolve_minutes=120, root_cause="deployment"),
        incident(10, "P3", resolve_minutes=30, root_cause="capacity"),
        incident(20, "P2", resolve_minutes=None),
    ]


@pytest.fixture
def report(db, user_factory):
    manager = user_factory(username="manager", email="manager@example.com")
    return report_save(
        by=SYSTEM,
        data={
            "name": "June review",
            "type": "incident_summary",
            "parameters": {"range": "previous_month"},
            "extra_recipients": ["cto@example.com"],
        },
        recipient_users=[manager],
        schedule="0 7 1 * *",
    )
