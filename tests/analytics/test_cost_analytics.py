from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.filters import Filters
from analytics.models import IncidentCost
from analytics.selectors import grouped_metrics, incident_series, summary
from analytics.services.cost import incident_cost_groups_store
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def costed(incident, amount: str, hours: float) -> None:
    """A stored cost with chosen figures, and the groups it counts under, as the refresh stores them."""
    cost = IncidentCost.objects.create(
        incident=incident,
        responders=1,
        responder_seconds=int(hours * 3600),
        meeting_seconds=0,
        rate=Decimal("100"),
        amount=Decimal(amount),
        computed_at=timezone.now(),
    )
    incident_cost_groups_store(cost=cost)


@pytest.fixture
def three_incidents():
    """A: two payments services (one team, one type "web") and a platform database: 300.00;
    B: no service: 50.00; C: a drill, left out: 999.00; D: no cost stored yet."""
    now = timezone.now()
    api = ServiceFactory(slug="pay-api", owner_team="payments", type="web")
    web = ServiceFactory(slug="pay-web", owner_team="payments", type="web")
    db = ServiceFactory(slug="core-db", owner_team="platform", type="database")
    a = IncidentFactory(detected_at=now - timedelta(days=2), services=[api, web, db])
    b = IncidentFactory(detected_at=now - timedelta(days=1))
    c = IncidentFactory(detected_at=now - timedelta(days=1), is_drill=True, services=[api])
    IncidentFactory(detected_at=now - timedelta(days=1), services=[db])
    costed(a, "300.00", 3)
    costed(b, "50.00", 0.5)
    costed(c, "999.00", 9)
    return Filters.last(7, now=now + timedelta(seconds=1))


def test_the_summary_sums_the_stored_costs_without_drills(three_incidents):
    cost = summary(three_incidents).cost

    assert (cost.incidents, cost.total, cost.hours) == (2, Decimal("350.00"), 3.5)
    assert cost.mean == Decimal("175.00")


def test_grouped_by_team_an_incident_counts_once_per_team(three_incidents):
    rows = {row.group: row.cost for row in grouped_metrics(three_incidents, "team")}

    assert {group: (c.incidents, c.total) for group, c in rows.items()} == {
        "payments": (1, Decimal("300.00")),
        "platform": (1, Decimal("300.00")),
        "none": (1, Decimal("50.00")),
    }


def test_grouped_by_service_type_an_incident_counts_once_per_type(three_incidents):
    rows = {row.group: row.cost.total for row in grouped_metrics(three_incidents, "service_type")}

    assert rows == {"web": Decimal("300.00"), "database": Decimal("300.00"), "none": Decimal("50.00")}


def test_grouped_by_priority_the_totals_add_up(three_incidents):
    rows = grouped_metrics(three_incidents, "priority")

    assert sum(row.cost.total for row in rows) == Decimal("350.00")


def test_the_series_has_the_cost_per_period_and_group(three_incidents):
    by_day = incident_series(three_incidents, bucket="day")
    by_team = incident_series(three_incidents, bucket="week", group_by="team")

    assert sorted(p.cost.total for p in by_day) == [Decimal("50.00"), Decimal("300.00")]
    assert sum(p.cost.total for p in by_team if p.group == "payments") == Decimal("300.00")
