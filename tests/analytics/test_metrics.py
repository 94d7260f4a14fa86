"""analytics.selectors against a small fixed history whose numbers are worked out by hand below."""

from datetime import UTC, date, datetime, timedelta

import pytest

from actions.choices import RunStatus
from alerts.models import Alert
from alerts.services import alert_source_create
from analytics.filters import Filters
from analytics.rollups.read import STATE_QUERIES
from analytics.selectors import (
    action_effectiveness,
    grouped_metrics,
    incident_series,
    monthly_trend,
    peak_times,
    periods,
    postmortem_follow_through,
    queries_per_clock,
    recommendations,
    summary,
)
from common.actor import Actor
from incidents.models import Incident, Priority
from incidents.services import incident_repeat_mark
from postmortems.models import ActionItem, Postmortem
from tests.actions.factories import ActionFactory, ActionRunFactory
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db
# Mondays at 10:00 UTC, one week apart.
DAY = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)
RANGE = Filters(start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 7, 1, tzinfo=UTC))
NOW = datetime(2026, 7, 1, tzinfo=UTC)


def incident(
    day: int, *, detect: int, ack: int | None, resolve: int | None, priority="P2", hours=0, **fields
):
    """Onset at DAY + `day` days (+ `hours`); detection, acknowledgement and resolution `detect`,
    `ack` and `resolve` minutes after onset (None: never)."""
    onset = DAY + timedelta(days=day, hours=hours)
    detected = onset + detect * M
    priority = Priority.objects.get(code=priority)
    return IncidentFactory(
        priority=priority,
        started_at=onset,
        detected_at=detected,
        acknowledged_at=onset + ack * M if ack is not None else None,
        resolved_at=onset + resolve * M if resolve is not None else None,
        response_due_at=detected + priority.response_target,
        resolution_due_at=detected + priority.resolution_target,
        status="resolved" if resolve is not None else ("in_progress" if ack is not None else "new"),
        **fields,
    )


@pytest.fixture
def history(service_factory):
    """Five real incidents in June 2026, a drill, and one in May (outside the range).

    | # | P  | onset      | TTD | TTA (from detection) | TTR (from detection) | notes                  |
    | a | P1 | Jun 1 10:00 | 2  | 8                    | 58                   | web, deployment        |
    | b | P2 | Jun 2 10:00 | 4  | -                    | 16 (auto)            | web, same alert as a   |
    | c | P2 | Jun 3 10:00 | 6  | 24                   | 114                  | db, reopened once      |
    | d | P3 | Jun 4 10:00 | 10 | 50                   | -                    | db, unresolved         |
    | e | P3 | Jun 5 22:00 | 8  | 12                   | 32                   | web, deployment        |
    MTTD: 2,4,6,10,8 -> mean 6, median 6, p90 10 (nearest rank ceil(4.5)=5th of 2,4,6,8,10).
    MTTA: 8,24,50,12 -> mean 23.5, median 12 (rank 2 of 8,12,24,50), p90 50 (rank 4).
    MTTR: 58,16,114,32 -> mean 55, median 32 (rank 2 of 16,32,58,114), p90 114.
    """
    web = service_factory(name="Web", slug="web", type="web", owner_team="storefront")
    db = service_factory(name="DB", slug="db", type="database", owner_team="platform")
    rows = {
        "a": incident(
            0, detect=2, ack=10, resolve=60, priority="P1", services=[web], root_cause_category="deployment"
        ),
        "b": incident(1, detect=4, ack=None, resolve=20, services=[web], auto_resolved=True),
        "c": incident(2, detect=6, ack=30, resolve=120, services=[db], reopen_count=1),
        "d": incident(3, detect=10, ack=60, resolve=None, priority="P3", services=[db]),
        "e": incident(
            4,
            detect=8,
            ack=20,
            resolve=40,
            priority="P3",
            hours=12,
            services=[web],
            root_cause_category="deployment",
        ),
    }
    incident(5, detect=1, ack=2, resolve=3, services=[web], is_drill=True)
    incident(-20, detect=1, ack=2, resolve=500, services=[web])
    source = alert_source_create(by=Actor.system(), name="Prom", kind="alertmanager")[0]
    for key, fingerprint in (("a", "fa"), ("b", "fb")):
        Alert.objects.create(
            source=source,
            fingerprint=fingerprint,
            name="HighErrorRate",
            starts_at=rows[key].started_at,
            received_at=rows[key].detected_at,
            last_received_at=rows[key].detected_at,
            incident=rows[key],
            status="resolved",
        )
    # The rows were written directly; mark repeats as the services would have.
    for row in Incident.objects.order_by("detected_at"):
        incident_repeat_mark(incident=row)
    return rows


def test_summary_matches_the_hand_computed_numbers(history, django_assert_num_queries):
    with django_assert_num_queries(
        3 + 3 * queries_per_clock() + STATE_QUERIES
    ):  # 7 on PostgreSQL, 10 on SQLite
        result = summary(RANGE, now=NOW)
    assert sorted(i.reference for i in Incident.objects.filter(is_repeat=True)) == sorted(
        [history["b"].reference, history["e"].reference]
    )

    assert result.incidents == 5  # The drill and May's are out.
    assert result.by_priority == {"P1": 1, "P2": 2, "P3": 2}
    assert result.per_day == pytest.approx(5 / 30)
    assert (result.mttd.count, result.mttd.mean, result.mttd.median, result.mttd.p90) == (
        5,
        6 * M,
        6 * M,
        10 * M,
    )
    assert (result.mtta.count, result.mtta.mean, result.mtta.median, result.mtta.p90) == (
        4,
        23.5 * M,
        12 * M,
        50 * M,
    )
    assert (result.mttr.count, result.mttr.mean, result.mttr.median, result.mttr.p90) == (
        4,
        55 * M,
        32 * M,
        114 * M,
    )
    assert (result.resolved, result.auto_resolved, result.auto_resolution_rate) == (4, 1, 0.25)
    # b repeats a (same service, same alert within 30 days); e repeats a (same service, same cause);
    # c was reopened: 3 of 5.
    assert (result.repeats, result.reopened, result.repeat_rate) == (2, 1, 0.6)


def test_sla_compliance(history):
    # Response targets: P1 15 min, P2 30 min, P3 4 h (see the priorities migration).
    result = summary(RANGE, now=NOW)
    # a acked 8 min after detection (P1 15: met), b resolved by automation after 16 (P2 30: met),
    # c acked after 24 (met), d after 50 (P3 240: met), e after 12 (met).
    assert result.sla_response_rate == 1.0
    # Resolution: a 58 min (P1 4 h: met), b 16, c 114 (P2 8 h: met), e 32; d unresolved and not yet
    # due at NOW? P3 resolution target is 3 days, due Jun 7, before NOW: a breach.
    assert result.sla_resolution_rate == 0.8


def test_empty_range_has_counts_of_zero_and_no_rates():
    empty = summary(RANGE, now=NOW)
    assert empty.incidents == 0 and empty.mttr.mean is None and empty.mttr.median is None
    assert (
        empty.auto_resolution_rate is None and empty.repeat_rate is None and empty.sla_response_rate is None
    )


def test_drills_only_when_asked_for(history):
    with_drills = Filters(start=RANGE.start, end=RANGE.end, include_drills=True)
    assert summary(with_drills, now=NOW).incidents == 6


def test_filters_narrow_by_service_type_team_priority_and_root_cause(history):
    def count(**narrowing):
        return summary(Filters(start=RANGE.start, end=RANGE.end, **narrowing), now=NOW).incidents

    assert count(service_types=("database",)) == 2
    assert count(teams=("storefront",)) == 3
    assert count(services=("web",), priorities=("P3",)) == 1
    assert count(root_causes=("deployment",)) == 2
    assert count(root_causes=("unclassified",)) == 3


def test_previous_period_is_the_same_length_before():
    previous = RANGE.previous()
    assert (previous.start, previous.end) == (datetime(2026, 5, 2, tzinfo=UTC), RANGE.start)


def test_grouped_by_priority_with_percentiles(history, django_assert_num_queries):
    with django_assert_num_queries(1 + 2 * queries_per_clock()):
        rows = {row.group: row for row in grouped_metrics(RANGE, "priority")}
    assert {k: v.incidents for k, v in rows.items()} == {"P1": 1, "P2": 2, "P3": 2}
    assert rows["P2"].mttr.median == 16 * M and rows["P2"].mttr.p90 == 114 * M  # 16, 114
    assert rows["P3"].mttr.count == 1 and rows["P3"].mttr.mean == 32 * M
    assert rows["P2"].auto_resolution_rate == 0.5


def test_grouped_by_root_cause_names_the_unclassified(history):
    rows = {row.group: row.incidents for row in grouped_metrics(RANGE, "root_cause")}
    assert rows == {"deployment": 2, "unclassified": 3}


def test_series_by_week_and_priority(history, django_assert_num_queries):
    with django_assert_num_queries(1 + STATE_QUERIES):
        points = incident_series(RANGE, bucket="week", group_by="priority")
    assert [(p.period, p.group, p.incidents) for p in points] == [
        (date(2026, 6, 1), "P1", 1),
        (date(2026, 6, 1), "P2", 2),
        (date(2026, 6, 1), "P3", 2),
    ]
    daily = incident_series(RANGE, bucket="day")
    assert [(p.period.day, p.incidents) for p in daily] == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]
    assert daily[0].mttr_mean == 58 * M and daily[3].mttr_mean is None
    assert len(periods(RANGE, "week")) == 5 and periods(RANGE, "month") == [date(2026, 6, 1)]


def test_series_by_service_type(history):
    points = {(p.group, p.incidents) for p in incident_series(RANGE, bucket="month", group_by="service_type")}
    assert points == {("web", 3), ("database", 2)}


def test_monthly_trend_has_twelve_months_with_gaps_as_zero(history, django_assert_num_queries):
    with django_assert_num_queries(1 + STATE_QUERIES):
        trend = monthly_trend(Filters(start=RANGE.start, end=datetime(2026, 6, 30, tzinfo=UTC)))
    assert len(trend) == 12 and trend[0].month == date(2025, 7, 1) and trend[-1].month == date(2026, 6, 1)
    assert (trend[-2].month, trend[-2].incidents, trend[-2].mttr_mean) == (date(2026, 5, 1), 1, 499 * M)
    assert trend[-1].incidents == 5 and trend[-1].mttr_mean == 55 * M
    assert trend[0].incidents == 0 and trend[0].mttr_mean is None
    # A range ending exactly at a month boundary ends in the month before it.
    assert [m.month for m in monthly_trend(RANGE)][-1] == date(2026, 6, 1) and len(monthly_trend(RANGE)) == 12


def test_peak_times_by_weekday_and_hour(history, django_assert_num_queries):
    with django_assert_num_queries(1 + STATE_QUERIES):
        grid = peak_times(RANGE)
    # Detections: Mon 10:02, Tue 10:04, Wed 10:06, Thu 10:10, Fri 22:08.
    assert grid[0][10] == grid[1][10] == grid[2][10] == grid[3][10] == 1
    assert grid[4][22] == 1
    assert sum(map(sum, grid)) == 5


def test_action_effectiveness_and_mttr_with_automation(history):
    check = ActionFactory(name="Health check")
    for status, minutes in ((RunStatus.SUCCEEDED, 2), (RunStatus.SUCCEEDED, 4), (RunStatus.FAILED, 6)):
        start = history["b"].detected_at
        ActionRunFactory(
            action=check,
            incident=history["b"],
            status=status,
            started_at=start,
            finished_at=start + minutes * M,
            requested_by=None,
        )
    # A state capture taken when "a" opened is requested by the system too, but remedies nothing.
    capture = ActionFactory(name="State capture")
    ActionRunFactory(
        action=capture, incident=history["a"], requested_by=None, capture_service=ServiceFactory()
    )
    result = action_effectiveness(RANGE)
    stats = next(s for s in result.actions if s.action == "Health check")
    assert (stats.action, stats.runs, stats.succeeded, stats.mean_duration) == ("Health check", 3, 2, 4 * M)
    assert stats.success_rate == pytest.approx(0.6667)
    assert result.mttr_with_automation.mean == 16 * M  # b only.
    assert result.mttr_without_automation.mean == (58 + 114 + 32) / 3 * M


def test_postmortem_follow_through(history, user_factory):
    owner = user_factory(username="owner")
    done = Postmortem.objects.create(incident=history["a"], severity="P1", status="published")
    Postmortem.objects.create(incident=history["c"], severity="P2", status="draft")
    for status, due in (("done", date(2026, 6, 10)), ("open", date(2026, 6, 10)), ("open", date(2026, 8, 1))):
        ActionItem.objects.create(
            postmortem=done, description="x", kind="monitoring", owner=owner, due_date=due, status=status
        )
    result = postmortem_follow_through(RANGE, today=date(2026, 7, 1))
    # a, b, c are resolved P1/P2; only a's post-mortem is complete.
    assert (result.p1_p2_resolved, result.postmortems_completed) == (3, 1)
    assert (result.items_done, result.items_open, result.items_overdue) == (1, 2, 1)


def test_recommendations(history):
    advice = {r.code: r for r in recommendations(RANGE)}
    # Repeat rate 60% (with May's incident counted in the year: b, e repeat; c reopened: 3 of 6).
    assert "repeats_high" in advice
    # Deployment: 2 of 2 classified incidents.
    assert advice["root_cause_dominant"].details["root_cause"] == "deployment"
    # MTTR of the last quarter (55 min mean over a, b, c, e and 499 from May) vs the year: same
    # incidents, so no rise.
    assert "mttr_increasing" not in advice


def test_mttr_increase_and_unreliable_action_are_recommended(history):
    later = Filters(start=RANGE.start, end=datetime(2026, 9, 25, tzinfo=UTC))
    incident(100, detect=1, ack=2, resolve=900)  # Mid-September, slow: the quarter's mean rises.
    check = ActionFactory(name="Flaky restart")
    for status in [RunStatus.FAILED] * 3 + [RunStatus.SUCCEEDED] * 2:
        ActionRunFactory(
            action=check, incident=history["a"], status=status, started_at=DAY, finished_at=DAY + M
        )
    advice = {r.code: r for r in recommendations(later)}
    assert "mttr_increasing" in advice
    assert advice["action_unreliable"].details == {"action": check.pk, "success_rate": 0.4, "runs": 5}
