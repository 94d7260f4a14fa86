"""The analytics rollups give exactly the direct queries' answers: randomized incidents (ragged
ranges, drills, shared and missing services and teams, costs, open SLAs, odd microseconds), every
filter and group-by, compared with the same selectors after the rollups are marked unbuilt (so they
query the incidents). And the rollups the services maintain equal the ones the rebuild writes."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from analytics.filters import GROUP_BYS, Filters
from analytics.models import (
    ClockDayHistogram,
    CostGroupDayRollup,
    IncidentCost,
    IncidentDayRollup,
    IncidentHourRollup,
    IncidentRollupMember,
    RollupState,
)
from analytics.rollups.read import split
from analytics.rollups.services import analytics_rollups_rebuild
from analytics.selectors import (
    cost_summary,
    grouped_metrics,
    incident_series,
    monthly_trend,
    peak_times,
    recommendations,
    summary,
)
from analytics.services.cost import incident_cost_groups_store, incident_cost_refresh
from common.actor import Actor, Source
from incidents.choices import RootCauseCategory, ServiceType
from incidents.derived import incidents_changes_gathered
from incidents.models import Priority
from incidents.services import (
    incident_acknowledge,
    incident_create,
    incident_dismiss,
    incident_reopen,
    incident_resolve,
    incident_update,
)
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db
BASE = datetime(2026, 3, 1, tzinfo=UTC)
NOW = BASE + timedelta(days=45)
SYSTEM = Actor.system(Source.TASK)
CAUSES = ["", *RootCauseCategory.values]


def _services():
    return [
        ServiceFactory(slug="web", type=ServiceType.WEB, owner_team="Storefront"),
        ServiceFactory(slug="api", type=ServiceType.WEB, owner_team="Payments"),
        ServiceFactory(slug="db", type=ServiceType.DATABASE, owner_team="Payments"),
        ServiceFactory(slug="dns", type=ServiceType.NETWORK, owner_team=""),
        ServiceFactory(slug="cache", type=ServiceType.DATABASE, owner_team="Platform"),
    ]


def _history(seed: int, count: int = 260):
    rng = random.Random(seed)
    services = _services()
    priorities = list(Priority.objects.order_by("code")[:4])
    for _ in range(count):
        detected = BASE + timedelta(seconds=rng.randrange(40 * 86400), microseconds=rng.randrange(10**6))
        started = detected - timedelta(
            seconds=rng.choice([0, rng.randrange(7200)]), microseconds=rng.randrange(999)
        )
        ack = detected + timedelta(seconds=rng.randrange(5000), microseconds=rng.randrange(10**6))
        resolved = ack + timedelta(seconds=rng.randrange(3 * 86400), microseconds=rng.randrange(10**6))
        has_ack, has_resolved = rng.random() < 0.8, rng.random() < 0.75
        incident = IncidentFactory(
            priority=rng.choice(priorities),
            detected_at=detected,
            started_at=started,
            acknowledged_at=ack if has_ack else None,
            resolved_at=resolved if has_resolved else None,
            auto_resolved=has_resolved and rng.random() < 0.3,
            is_repeat=rng.random() < 0.2,
            reopen_count=rng.choice([0, 0, 0, 1, 2]),
            is_drill=rng.random() < 0.1,
            root_cause_category=rng.choice(CAUSES),
            response_due_at=rng.choice([None, detected + timedelta(minutes=rng.randrange(120))]),
            resolution_due_at=rng.choice([None, detected + timedelta(hours=rng.randrange(48))]),
            services=rng.sample(services, rng.choice([0, 1, 1, 1, 2, 3])),
        )
        if rng.random() < 0.5:
            cost = IncidentCost.objects.create(
                incident=incident,
                responder_seconds=rng.randrange(10**5),
                meeting_seconds=rng.randrange(10**4),
                rate=Decimal("80.00"),
                amount=Decimal(rng.randrange(10**6)) / 100,
                computed_at=NOW,
            )
            incident_cost_groups_store(cost=cost)
    return services


FILTERS = [
    Filters(start=BASE + timedelta(hours=13, minutes=17, seconds=3), end=BASE + timedelta(days=31, hours=5)),
    Filters(start=BASE - timedelta(days=3), end=BASE + timedelta(days=60)),
    Filters(start=BASE + timedelta(days=2), end=BASE + timedelta(days=9)),  # whole days only
    Filters(start=BASE + timedelta(days=5, hours=3), end=BASE + timedelta(days=6, hours=2)),  # no whole day
    Filters(start=BASE + timedelta(hours=1), end=BASE + timedelta(days=39), include_drills=True),
    Filters(start=BASE + timedelta(hours=1), end=BASE + timedelta(days=39), services=("api", "dns")),
    Filters(
        start=BASE + timedelta(hours=7), end=BASE + timedelta(days=30), service_types=(ServiceType.DATABASE,)
    ),
    Filters(start=BASE + timedelta(hours=7), end=BASE + timedelta(days=30), teams=("Payments",)),
    Filters(
        start=BASE, end=BASE + timedelta(days=30, minutes=1), services=("web", "db"), teams=("Payments",)
    ),
    Filters(start=BASE + timedelta(hours=2), end=BASE + timedelta(days=35), priorities=("P1", "P3")),
    Filters(
        start=BASE + timedelta(hours=2),
        end=BASE + timedelta(days=35),
        root_causes=("deployment", "unclassified"),
        include_drills=True,
    ),
]


def views(filters: Filters) -> dict:
    out = {
        "summary": summary(filters, now=NOW),
        "peak": peak_times(filters),
        "recommendations": recommendations(filters),
        "trend": monthly_trend(filters),
        "cost": cost_summary(filters),
    }
    for group_by in GROUP_BYS:
        out[f"grouped {group_by}"] = grouped_metrics(filters, group_by)
    for bucket in ("day", "week", "month"):
        for group_by in (None, *GROUP_BYS):
            out[f"series {bucket} {group_by}"] = incident_series(filters, bucket=bucket, group_by=group_by)
    return out


def rolled_and_direct(filters: Filters) -> tuple[dict, dict]:
    rolled = views(filters)
    state = list(RollupState.objects.values("time_zone", "built_at"))
    RollupState.objects.all().delete()  # the selectors now query the incidents directly
    direct = views(filters)
    RollupState.objects.bulk_create([RollupState(**row) for row in state])
    return rolled, direct


@pytest.mark.parametrize("seed", [1, 2])
def test_rollup_answers_equal_direct_answers(seed):
    _history(seed)
    analytics_rollups_rebuild()
    assert split(FILTERS[0]) is not None and split(FILTERS[3]) is None
    for filters in FILTERS:
        rolled, direct = rolled_and_direct(filters)
        for name in direct:
            assert rolled[name] == direct[name], (filters, name)
    assert summary(FILTERS[0], now=NOW).incidents > 0


def _snapshot() -> dict:
    """The rollups with segments named by what they stand for (a rebuild renumbers them)."""
    segment = (
        "segment__priority__code",
        "segment__root_cause_category",
        "segment__is_drill",
        "segment__services_key",
    )
    days = {
        (row.pop("day"), *(row.pop(f) for f in segment)): row
        for row in IncidentDayRollup.objects.values(
            "day",
            *segment,
            *[
                f.name
                for f in IncidentDayRollup._meta.concrete_fields
                if f.name not in ("id", "day", "segment")
            ],
        )
    }
    members = {
        row.pop("incident_id"): (row.pop("segment__services_key"), row)
        for row in IncidentRollupMember.objects.values(
            "segment__services_key",
            *[f.attname for f in IncidentRollupMember._meta.concrete_fields if f.attname != "segment_id"],
        )
    }
    hist = set(ClockDayHistogram.objects.values_list("day", "is_drill", "clock", "bucket", "n"))
    hours = set(IncidentHourRollup.objects.values_list("day", "hour", "is_drill", "incidents"))
    costs = set(
        CostGroupDayRollup.objects.values_list(
            "day", "segment__services_key", "kind", "key", "cost_incidents", "cost_total", "cost_seconds"
        )
    )
    return {"days": days, "members": members, "hist": hist, "hours": hours, "costs": costs}


def test_services_maintain_the_rollups_as_the_rebuild_computes_them(
    actor, django_capture_on_commit_callbacks
):
    analytics_rollups_rebuild()
    web, api, db, dns, cache = _services()
    p1, p2, p3 = (Priority.objects.get(code=c) for c in ("P1", "P2", "P3"))
    when = NOW - timedelta(days=2, hours=3)
    first = incident_create(
        by=SYSTEM, title="Checkout down", priority=p2, services=[web, api], detected_at=when
    )
    second = incident_create(by=SYSTEM, title="DB slow", priority=p3, services=[db], detected_at=when)
    third = incident_create(by=SYSTEM, title="Drill", priority=p3, is_drill=True, detected_at=when)
    assert IncidentRollupMember.objects.count() == 3
    before = _snapshot()
    first = incident_acknowledge(incident=first, by=actor)
    first = incident_resolve(incident=first, by=actor, summary="Rolled back.")
    incident_cost_refresh(incident_id=first.pk)
    incident_cost_refresh(incident_id=second.pk)
    first = incident_reopen(incident=first, by=actor, reason="Back again.")
    second = incident_update(
        incident=second, by=actor, changes={"priority": p1, "root_cause_category": "capacity"}
    )
    incident_update(incident=second, by=actor, changes={"services": [db, dns, cache]})
    incident_dismiss(incident=third, by=actor, reason="Only a drill.")
    maintained = _snapshot()
    assert maintained != before
    assert maintained["members"][first.pk][1]["reopened"] is True
    assert maintained["members"][second.pk][1]["cost_groups"] and maintained["costs"]
    assert maintained["members"][second.pk][0] == ",".join(
        str(s.pk) for s in sorted([db, dns, cache], key=lambda s: s.pk)
    )
    call_command("rebuild_analytics_rollups", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _snapshot() == maintained
    assert RollupState.objects.count() == 1


def test_changes_gathered_in_a_transaction_keep_the_rollups_once_as_the_rebuild_computes_them(actor):
    """incidents.derived.incidents_changes_gathered (a batch of alerts opening incidents): the
    incidents changed in the block are refreshed once, together, as it ends; the rollups are those
    the rebuild computes, as when each change refreshed them."""
    analytics_rollups_rebuild()
    web, api, db, *_ = _services()
    p2, p3 = (Priority.objects.get(code=c) for c in ("P2", "P3"))
    when = NOW - timedelta(days=2, hours=3)
    with CaptureQueriesContext(connection) as captured, transaction.atomic(), incidents_changes_gathered():
        first = incident_create(
            by=SYSTEM, title="Checkout down", priority=p2, services=[web, api], detected_at=when
        )
        incident_create(by=SYSTEM, title="DB slow", priority=p3, services=[db], detected_at=when)
        incident_create(by=SYSTEM, title="Drill", priority=p3, is_drill=True, detected_at=when)
        incident_acknowledge(incident=first, by=actor)
        assert not IncidentRollupMember.objects.exists()  # Not yet: at the block's end.
    members_read = [
        q for q in captured if 'WHERE "analytics_incidentrollupmember"."incident_id" IN' in q["sql"]
    ]
    assert len(members_read) == 1  # One refresh for the four changes.
    maintained = _snapshot()
    assert len(maintained["members"]) == 3
    call_command("rebuild_analytics_rollups", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _snapshot() == maintained


def test_changes_gathered_in_a_failed_block_refresh_nothing():
    analytics_rollups_rebuild()
    with pytest.raises(RuntimeError), transaction.atomic(), incidents_changes_gathered():
        incident_create(by=SYSTEM, title="Rolled back", priority=Priority.objects.get(code="P3"))
        raise RuntimeError("the batch failed")
    assert not IncidentRollupMember.objects.exists()
    assert not IncidentDayRollup.objects.exists()
