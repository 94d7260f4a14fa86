"""The history bars: a component's worst status on each day, the days in the page's time zone."""

from datetime import UTC, date, datetime, timedelta

import pytest

from statuspage.choices import ComponentStatus as S
from statuspage.history import Day, day_worst, window_days
from statuspage.selectors import history_bars
from statuspage.services.components import status_record
from statuspage.services.public_incidents import maintenance_sweep
from tests.statuspage.support import component_make, maintenance_make


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def bar_of(component, *, now, zone="Europe/Berlin", days=30):
    found = history_bars(components=[component], days=days, time_zone=zone, now=now)[component.pk]
    return {day.date: day for day in found}


def changes_of(component, *changes):
    for at, status in changes:
        status_record(component=component, status=status, at=at)


# --- the days -------------------------------------------------------------------------------------


def test_the_window_is_the_last_days_up_to_now_in_the_zone():
    now = utc(2026, 11, 20, 23, 30)  # already the 21st in Berlin
    days = window_days(days=3, time_zone="Europe/Berlin", now=now)
    assert [day.date for day in days] == [date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)]
    assert days[0].start == utc(2026, 11, 18, 23)
    assert days[-1].end == now


def test_dst_days_last_23_and_25_hours():
    spring = window_days(days=1, time_zone="Europe/Berlin", now=utc(2026, 3, 29, 21))[0]
    assert spring.start == utc(2026, 3, 28, 23)
    autumn = window_days(days=2, time_zone="Europe/Berlin", now=utc(2026, 10, 26, 12))[0]
    assert (autumn.date, autumn.end - autumn.start) == (date(2026, 10, 25), timedelta(hours=25))


def test_day_worst_takes_the_worst_span_touching_each_day():
    days = [Day(date(2026, 1, d), utc(2026, 1, d), utc(2026, 1, d + 1)) for d in range(1, 6)]
    changes = [
        (utc(2026, 1, 2, 8), S.DEGRADED),
        (utc(2026, 1, 2, 9), S.MAJOR_OUTAGE),
        (utc(2026, 1, 2, 9, 30), S.OPERATIONAL),
        (utc(2026, 1, 3, 22), S.PARTIAL_OUTAGE),  # until the 5th, 01:00
        (utc(2026, 1, 5, 1), S.OPERATIONAL),
    ]
    assert day_worst(changes=changes, before=S.MAINTENANCE, days=days) == [
        S.MAINTENANCE,  # what the window opened with, until the first change
        S.MAJOR_OUTAGE,
        S.PARTIAL_OUTAGE,
        S.PARTIAL_OUTAGE,
        S.PARTIAL_OUTAGE,
    ]


def test_two_changes_at_one_instant_show_only_the_second():
    days = [Day(date(2026, 1, 1), utc(2026, 1, 1), utc(2026, 1, 2))]
    at = utc(2026, 1, 1, 12)
    assert day_worst(changes=[(at, S.MAJOR_OUTAGE), (at, S.DEGRADED)], before=S.OPERATIONAL, days=days) == [
        S.DEGRADED
    ]


def test_a_change_made_this_instant_shows_today():
    now = utc(2026, 1, 1, 12)
    days = [Day(date(2026, 1, 1), utc(2026, 1, 1), now)]
    assert day_worst(changes=[(now, S.MAJOR_OUTAGE)], before=S.OPERATIONAL, days=days) == [S.MAJOR_OUTAGE]


# --- from the recorded changes --------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_a_change_at_23_30_utc_is_the_next_day_in_berlin():
    api = component_make("API")
    changes_of(api, (utc(2026, 11, 10, 23, 30), S.MAJOR_OUTAGE), (utc(2026, 11, 10, 23, 50), S.OPERATIONAL))
    now = utc(2026, 11, 20, 12)

    berlin = bar_of(api, now=now, zone="Europe/Berlin")
    assert berlin[date(2026, 11, 10)].status == S.OPERATIONAL
    assert berlin[date(2026, 11, 11)].status == S.MAJOR_OUTAGE

    in_utc = bar_of(api, now=now, zone="UTC")
    assert in_utc[date(2026, 11, 10)].status == S.MAJOR_OUTAGE
    assert in_utc[date(2026, 11, 11)].status == S.OPERATIONAL


def test_dst_days_in_berlin():
    api = component_make("API")
    changes_of(
        api,
        # The spring day ends at 22:00 UTC (local midnight, summer time): 21:30 is still the 29th...
        (utc(2026, 3, 29, 21, 30), S.DEGRADED),
        (utc(2026, 3, 29, 21, 45), S.OPERATIONAL),
        # ...and 22:30 the 30th.
        (utc(2026, 3, 29, 22, 30), S.PARTIAL_OUTAGE),
        (utc(2026, 3, 29, 22, 45), S.OPERATIONAL),
        # The autumn day ends at 23:00 UTC (winter time again): 22:30 is still the 25th.
        (utc(2026, 10, 25, 22, 30), S.MAJOR_OUTAGE),
        (utc(2026, 10, 25, 22, 45), S.OPERATIONAL),
    )
    spring = bar_of(api, now=utc(2026, 4, 5), days=10)
    assert [spring[date(2026, 3, d)].status for d in (28, 29, 30, 31)] == [
        S.OPERATIONAL, S.DEGRADED, S.PARTIAL_OUTAGE, S.OPERATIONAL,
    ]  # fmt: skip
    autumn = bar_of(api, now=utc(2026, 10, 30), days=10)
    assert [autumn[date(2026, 10, d)].status for d in (24, 25, 26)] == [
        S.OPERATIONAL, S.MAJOR_OUTAGE, S.OPERATIONAL,
    ]  # fmt: skip


def test_the_status_before_the_window_is_the_last_change_before_it():
    down, back = component_make("Down"), component_make("Back")
    changes_of(down, (utc(2026, 1, 1), S.DEGRADED), (utc(2026, 2, 1), S.MAJOR_OUTAGE))
    changes_of(back, (utc(2026, 1, 1), S.MAJOR_OUTAGE), (utc(2026, 2, 1), S.OPERATIONAL))
    now = utc(2026, 11, 20, 12)
    bars = history_bars(components=[down, back], days=90, time_zone="UTC", now=now)
    assert {day.status for day in bars[down.pk]} == {S.MAJOR_OUTAGE}
    assert {day.status for day in bars[back.pk]} == {S.OPERATIONAL}
    assert len(bars[down.pk]) == 90 and bars[down.pk][-1].date == date(2026, 11, 20)


def test_a_day_names_the_maintenance_that_touched_the_component():
    db, web = component_make("Database"), component_make("Website")
    start = utc(2026, 11, 12, 22)
    until = start + timedelta(hours=4)
    maintenance_make(title="Database upgrade", scheduled_for=start, scheduled_until=until, components=[db])
    maintenance_sweep(now=start)
    maintenance_sweep(now=until)

    bar = bar_of(db, now=utc(2026, 11, 20), zone="UTC")
    assert bar[date(2026, 11, 12)].status == S.MAINTENANCE
    assert bar[date(2026, 11, 13)].status == S.MAINTENANCE
    assert bar[date(2026, 11, 12)].incidents == ("Database upgrade",)
    assert bar[date(2026, 11, 14)].incidents == ()
    assert bar[date(2026, 11, 14)].label == "14 Nov 2026: No incidents"
    assert bar[date(2026, 11, 13)].label == "13 Nov 2026: Under maintenance. Database upgrade"
    assert bar[date(2026, 11, 13)].code == "m"
    assert all(not day.incidents for day in bar_of(web, now=utc(2026, 11, 20)).values())


def test_two_queries_for_all_the_components_whatever_their_number(django_assert_num_queries):
    components = [component_make(f"C{n}") for n in range(25)]
    for n, component in enumerate(components):
        changes_of(
            component, (utc(2026, 11, 1 + n % 10, n % 24), S.DEGRADED), (utc(2026, 11, 15), S.OPERATIONAL)
        )
    with django_assert_num_queries(2):
        one = history_bars(components=components[:1], days=90, time_zone="UTC", now=utc(2026, 11, 20))
    with django_assert_num_queries(2):
        every = history_bars(components=components, days=90, time_zone="UTC", now=utc(2026, 11, 20))
    assert len(one) == 1 and len(every) == 25
    # Component 3: degraded from 4 Nov 03:00 to 15 Nov 00:00; today (the last day) is 20 Nov.
    bar = [day.status for day in every[components[3].pk]]
    assert bar[-18:] == [S.OPERATIONAL] + [S.DEGRADED] * 11 + [S.OPERATIONAL] * 6
