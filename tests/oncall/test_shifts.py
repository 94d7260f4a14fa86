"""Schedule math against shifts computed by hand. Expected shifts are written in local time; where a
DST change makes a wall time ambiguous or shifts the offset, the offset is written out."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from oncall.shifts import Cover, Rotation, Shift, flatten, in_window, local_instant, rotation_shifts, users_at

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
PEOPLE = {name: number for number, name in enumerate("abcdefghuvwxyz", start=1)}
NAMES = {number: name for name, number in PEOPLE.items()}


def local(tz: ZoneInfo, text: str) -> dt.datetime:
    """'2026-06-01 09:00' in `tz`, or with an explicit offset ('2026-10-25 02:30+02:00')."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.UTC)


def rotation(
    level: int,
    unit: str,
    length: int,
    start: str,
    members: str,
    weekdays: tuple[int, ...] = (),
    window: str | None = None,
) -> Rotation:
    day, handoff = start.split()
    window_start = window_end = None
    if window:
        window_start, window_end = (dt.time.fromisoformat(part) for part in window.split("-"))
    return Rotation(
        id=level * 100,
        level=level,
        unit=unit,
        length=length,
        start_date=dt.date.fromisoformat(day),
        handoff_time=dt.time.fromisoformat(handoff),
        members=tuple(PEOPLE[name] for name in members),
        weekdays=frozenset(weekdays),
        window_start=window_start,
        window_end=window_end,
    )


def cover(tz: ZoneInfo, rank: int, user: str, start: str, end: str, replaces: str | None = None) -> Cover:
    return Cover(
        id=rank,
        user_id=PEOPLE[user],
        starts_at=local(tz, start),
        ends_at=local(tz, end),
        replaces_id=PEOPLE[replaces] if replaces else None,
        rank=(rank,),
    )


def table(tz: ZoneInfo, shifts: list[Shift]) -> list[tuple[str, str, str]]:
    """Shifts as (person, local start, local end) with offsets, for readable failures."""
    return [
        (
            NAMES[shift.user_id],
            shift.start.astimezone(tz).isoformat(" "),
            shift.end.astimezone(tz).isoformat(" "),
        )
        for shift in shifts
    ]


def expected(tz: ZoneInfo, rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [
        (name, local(tz, start).astimezone(tz).isoformat(" "), local(tz, end).astimezone(tz).isoformat(" "))
        for name, start, end in rows
    ]


def assert_points_agree(tz, rotations, covers, shifts, start, end):
    """ "Who is on call at T" (arithmetic) agrees with the enumerated shifts at every boundary and
    midpoint, and nobody is named in the gaps."""
    points = {start, end - dt.timedelta(seconds=1)}
    for shift in shifts:
        points.update(
            (shift.start, shift.start + (shift.end - shift.start) / 2, shift.end - dt.timedelta(seconds=1))
        )
        points.update((shift.end, shift.start - dt.timedelta(seconds=1)))
    for point in sorted(p for p in points if start <= p < end):
        holder = [shift.user_id for shift in shifts if shift.start <= point < shift.end]
        assert users_at(rotations, covers, tz, point) == holder, point.astimezone(tz)


# --- one layer -------------------------------------------------------------------------------------

SINGLE_LAYER = [
    pytest.param(
        BERLIN,
        rotation(1, "weeks", 1, "2026-03-02 09:00", "abc"),
        "2026-03-02 00:00",
        "2026-03-23 12:00",
        [
            ("a", "2026-03-02 09:00", "2026-03-09 09:00"),
            ("b", "2026-03-09 09:00", "2026-03-16 09:00"),
            ("c", "2026-03-16 09:00", "2026-03-23 09:00"),
            ("a", "2026-03-23 09:00", "2026-03-23 12:00"),
        ],
        id="weekly, nobody before the start",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "weeks", 2, "2026-05-04 10:00", "ab"),
        "2026-05-20 00:00",
        "2026-06-20 00:00",
        [
            ("b", "2026-05-20 00:00", "2026-06-01 10:00"),
            ("a", "2026-06-01 10:00", "2026-06-15 10:00"),
            ("b", "2026-06-15 10:00", "2026-06-20 00:00"),
        ],
        id="two-week turns, range starting mid-turn",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "days", 2, "2026-06-01 08:00", "ab"),
        "2026-06-01 00:00",
        "2026-06-07 00:00",
        [
            ("a", "2026-06-01 08:00", "2026-06-03 08:00"),
            ("b", "2026-06-03 08:00", "2026-06-05 08:00"),
            ("a", "2026-06-05 08:00", "2026-06-07 00:00"),
        ],
        id="two-day turns",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "hours", 8, "2026-06-01 06:00", "abc"),
        "2026-06-01 06:00",
        "2026-06-02 10:00",
        [
            ("a", "2026-06-01 06:00", "2026-06-01 14:00"),
            ("b", "2026-06-01 14:00", "2026-06-01 22:00"),
            ("c", "2026-06-01 22:00", "2026-06-02 06:00"),
            ("a", "2026-06-02 06:00", "2026-06-02 10:00"),
        ],
        id="8-hour turns",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "days", 1, "2026-06-01 09:00", "ab", weekdays=(0, 1, 2, 3, 4), window="09:00-17:00"),
        "2026-06-05 00:00",
        "2026-06-09 00:00",
        [
            ("a", "2026-06-05 09:00", "2026-06-05 17:00"),
            ("b", "2026-06-08 09:00", "2026-06-08 17:00"),
        ],
        id="business hours Mon-Fri 09-17, weekend empty",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "weeks", 1, "2026-06-01 09:00", "ab", window="22:00-06:00"),
        "2026-06-07 12:00",
        "2026-06-09 12:00",
        [
            ("a", "2026-06-07 22:00", "2026-06-08 06:00"),
            ("b", "2026-06-08 22:00", "2026-06-09 06:00"),
        ],
        id="overnight window 22-06 every day",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "days", 1, "2026-06-01 00:00", "ab", window="22:00-06:00"),
        "2026-06-01 00:00",
        "2026-06-02 12:00",
        [
            ("a", "2026-06-01 00:00", "2026-06-01 06:00"),
            ("a", "2026-06-01 22:00", "2026-06-02 00:00"),
            ("b", "2026-06-02 00:00", "2026-06-02 06:00"),
        ],
        id="overnight window cut by a midnight handoff",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "weeks", 1, "2026-06-01 09:00", "ab", weekdays=(4,), window="22:00-06:00"),
        "2026-06-04 00:00",
        "2026-06-09 00:00",
        [("a", "2026-06-05 22:00", "2026-06-06 06:00")],
        id="overnight window belongs to the weekday it starts on",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "days", 1, "2026-06-01 09:00", "ab", weekdays=(5, 6)),
        "2026-06-05 00:00",
        "2026-06-09 00:00",
        [
            ("a", "2026-06-06 00:00", "2026-06-06 09:00"),
            ("b", "2026-06-06 09:00", "2026-06-07 09:00"),
            ("a", "2026-06-07 09:00", "2026-06-08 00:00"),
        ],
        id="weekends only, no daily window",
    ),
]


@pytest.mark.parametrize(("tz", "layer", "start", "end", "rows"), SINGLE_LAYER)
def test_one_layer(tz, layer, start, end, rows):
    start, end = local(tz, start), local(tz, end)
    shifts = rotation_shifts(layer, tz, start, end)
    assert table(tz, shifts) == expected(tz, rows)
    assert_points_agree(tz, [layer], [], shifts, start, end)


def test_a_layer_without_members_has_nobody():
    layer = rotation(1, "days", 1, "2026-06-01 09:00", "")
    at = local(BERLIN, "2026-06-02 12:00")
    assert rotation_shifts(layer, BERLIN, at, at + dt.timedelta(days=3)) == []
    assert users_at([layer], [], BERLIN, at) == []


def test_restriction_window_edges():
    layer = rotation(1, "weeks", 1, "2026-06-01 09:00", "a", weekdays=(4,), window="22:00-06:00")
    assert in_window(layer, BERLIN, local(BERLIN, "2026-06-05 22:00"))
    assert in_window(layer, BERLIN, local(BERLIN, "2026-06-06 05:59"))
    assert not in_window(layer, BERLIN, local(BERLIN, "2026-06-06 06:00"))
    assert not in_window(layer, BERLIN, local(BERLIN, "2026-06-06 23:00"))
    assert not in_window(layer, BERLIN, local(BERLIN, "2026-06-05 21:59"))


def test_far_future_lookup_is_arithmetic():
    """Years of hourly turns: the answer comes from the elapsed count, so it is still exact."""
    layer = rotation(1, "hours", 1, "2026-01-01 00:00", "abc")
    at = local(dt.UTC, "2036-01-01 00:30+00:00")
    hours = int((at - local(BERLIN, "2026-01-01 00:00")) // dt.timedelta(hours=1))
    assert users_at([layer], [], BERLIN, at) == [PEOPLE["abc"[hours % 3]]]


# --- DST -------------------------------------------------------------------------------------------

DST = [
    # Daily 09:00: the handoff stays 09:00 local; the turn across the change is 23 or 25 hours.
    pytest.param(
        BERLIN,
        rotation(1, "days", 1, "2026-03-27 09:00", "ab"),
        "2026-03-28 00:00",
        "2026-03-31 00:00",
        [
            ("a", "2026-03-28 00:00+01:00", "2026-03-28 09:00+01:00"),
            ("b", "2026-03-28 09:00+01:00", "2026-03-29 09:00+02:00"),
            ("a", "2026-03-29 09:00+02:00", "2026-03-30 09:00+02:00"),
            ("b", "2026-03-30 09:00+02:00", "2026-03-31 00:00+02:00"),
        ],
        id="Berlin spring forward, daily 09:00",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "days", 1, "2026-10-23 09:00", "ab"),
        "2026-10-24 00:00",
        "2026-10-27 00:00",
        [
            ("a", "2026-10-24 00:00+02:00", "2026-10-24 09:00+02:00"),
            ("b", "2026-10-24 09:00+02:00", "2026-10-25 09:00+01:00"),
            ("a", "2026-10-25 09:00+01:00", "2026-10-26 09:00+01:00"),
            ("b", "2026-10-26 09:00+01:00", "2026-10-27 00:00+01:00"),
        ],
        id="Berlin fall back, daily 09:00",
    ),
    pytest.param(
        NEW_YORK,
        rotation(1, "days", 1, "2026-03-06 09:00", "ab"),
        "2026-03-07 00:00",
        "2026-03-10 00:00",
        [
            ("a", "2026-03-07 00:00-05:00", "2026-03-07 09:00-05:00"),
            ("b", "2026-03-07 09:00-05:00", "2026-03-08 09:00-04:00"),
            ("a", "2026-03-08 09:00-04:00", "2026-03-09 09:00-04:00"),
            ("b", "2026-03-09 09:00-04:00", "2026-03-10 00:00-04:00"),
        ],
        id="New York spring forward, daily 09:00",
    ),
    pytest.param(
        NEW_YORK,
        rotation(1, "days", 1, "2026-10-30 09:00", "ab"),
        "2026-10-31 00:00",
        "2026-11-03 00:00",
        [
            ("a", "2026-10-31 00:00-04:00", "2026-10-31 09:00-04:00"),
            ("b", "2026-10-31 09:00-04:00", "2026-11-01 09:00-05:00"),
            ("a", "2026-11-01 09:00-05:00", "2026-11-02 09:00-05:00"),
            ("b", "2026-11-02 09:00-05:00", "2026-11-03 00:00-05:00"),
        ],
        id="New York fall back, daily 09:00",
    ),
    # Daily 02:30: on the spring day 02:30 does not exist (the handoff moves to the change, 03:00
    # local); on Berlin's fall day it happens twice (the first, +02:00, counts).
    pytest.param(
        BERLIN,
        rotation(1, "days", 1, "2026-03-27 02:30", "abc"),
        "2026-03-28 00:00",
        "2026-03-31 00:00",
        [
            ("a", "2026-03-28 00:00+01:00", "2026-03-28 02:30+01:00"),
            ("b", "2026-03-28 02:30+01:00", "2026-03-29 03:00+02:00"),
            ("c", "2026-03-29 03:00+02:00", "2026-03-30 02:30+02:00"),
            ("a", "2026-03-30 02:30+02:00", "2026-03-31 00:00+02:00"),
        ],
        id="Berlin spring forward, daily 02:30 (does not exist)",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "days", 1, "2026-10-23 02:30", "abc"),
        "2026-10-24 00:00",
        "2026-10-27 00:00",
        [
            ("a", "2026-10-24 00:00+02:00", "2026-10-24 02:30+02:00"),
            ("b", "2026-10-24 02:30+02:00", "2026-10-25 02:30+02:00"),
            ("c", "2026-10-25 02:30+02:00", "2026-10-26 02:30+01:00"),
            ("a", "2026-10-26 02:30+01:00", "2026-10-27 00:00+01:00"),
        ],
        id="Berlin fall back, daily 02:30 (happens twice: the first)",
    ),
    pytest.param(
        NEW_YORK,
        rotation(1, "days", 1, "2026-03-06 02:30", "abc"),
        "2026-03-07 00:00",
        "2026-03-10 00:00",
        [
            ("a", "2026-03-07 00:00-05:00", "2026-03-07 02:30-05:00"),
            ("b", "2026-03-07 02:30-05:00", "2026-03-08 03:00-04:00"),
            ("c", "2026-03-08 03:00-04:00", "2026-03-09 02:30-04:00"),
            ("a", "2026-03-09 02:30-04:00", "2026-03-10 00:00-04:00"),
        ],
        id="New York spring forward, daily 02:30 (does not exist)",
    ),
    pytest.param(
        NEW_YORK,
        rotation(1, "days", 1, "2026-10-30 02:30", "abc"),
        "2026-10-31 00:00",
        "2026-11-03 00:00",
        [
            ("a", "2026-10-31 00:00-04:00", "2026-10-31 02:30-04:00"),
            ("b", "2026-10-31 02:30-04:00", "2026-11-01 02:30-05:00"),
            ("c", "2026-11-01 02:30-05:00", "2026-11-02 02:30-05:00"),
            ("a", "2026-11-02 02:30-05:00", "2026-11-03 00:00-05:00"),
        ],
        id="New York fall back, daily 02:30 (after the repeated hour: 25-hour turn)",
    ),
    pytest.param(
        NEW_YORK,
        rotation(1, "days", 1, "2026-10-30 01:30", "abc"),
        "2026-10-31 00:00",
        "2026-11-02 12:00",
        [
            ("a", "2026-10-31 00:00-04:00", "2026-10-31 01:30-04:00"),
            ("b", "2026-10-31 01:30-04:00", "2026-11-01 01:30-04:00"),
            ("c", "2026-11-01 01:30-04:00", "2026-11-02 01:30-05:00"),
            ("a", "2026-11-02 01:30-05:00", "2026-11-02 12:00-05:00"),
        ],
        id="New York fall back, daily 01:30 (happens twice: the first)",
    ),
    # 12-hour turns count elapsed hours: after the change the handoffs read an hour later/earlier.
    pytest.param(
        BERLIN,
        rotation(1, "hours", 12, "2026-03-28 09:00", "ab"),
        "2026-03-28 09:00",
        "2026-03-30 00:00",
        [
            ("a", "2026-03-28 09:00+01:00", "2026-03-28 21:00+01:00"),
            ("b", "2026-03-28 21:00+01:00", "2026-03-29 10:00+02:00"),
            ("a", "2026-03-29 10:00+02:00", "2026-03-29 22:00+02:00"),
            ("b", "2026-03-29 22:00+02:00", "2026-03-30 00:00+02:00"),
        ],
        id="Berlin spring forward, 12-hour turns",
    ),
    pytest.param(
        BERLIN,
        rotation(1, "hours", 12, "2026-10-24 09:00", "ab"),
        "2026-10-24 09:00",
        "2026-10-26 00:00",
        [
            ("a", "2026-10-24 09:00+02:00", "2026-10-24 21:00+02:00"),
            ("b", "2026-10-24 21:00+02:00", "2026-10-25 08:00+01:00"),
            ("a", "2026-10-25 08:00+01:00", "2026-10-25 20:00+01:00"),
            ("b", "2026-10-25 20:00+01:00", "2026-10-26 00:00+01:00"),
        ],
        id="Berlin fall back, 12-hour turns",
    ),
    pytest.param(
        NEW_YORK,
        rotation(1, "hours", 12, "2026-03-07 09:00", "ab"),
        "2026-03-07 09:00",
        "2026-03-09 00:00",
        [
            ("a", "2026-03-07 09:00-05:00", "2026-03-07 21:00-05:00"),
            ("b", "2026-03-07 21:00-05:00", "2026-03-08 10:00-04:00"),
            ("a", "2026-03-08 10:00-04:00", "2026-03-08 22:00-04:00"),
            ("b", "2026-03-08 22:00-04:00", "2026-03-09 00:00-04:00"),
        ],
        id="New York spring forward, 12-hour turns",
    ),
    pytest.param(
        NEW_YORK,
        rotation(1, "hours", 12, "2026-10-31 09:00", "ab"),
        "2026-10-31 09:00",
        "2026-11-02 00:00",
        [
            ("a", "2026-10-31 09:00-04:00", "2026-10-31 21:00-04:00"),
            ("b", "2026-10-31 21:00-04:00", "2026-11-01 08:00-05:00"),
            ("a", "2026-11-01 08:00-05:00", "2026-11-01 20:00-05:00"),
            ("b", "2026-11-01 20:00-05:00", "2026-11-02 00:00-05:00"),
        ],
        id="New York fall back, 12-hour turns",
    ),
]


@pytest.mark.parametrize(("tz", "layer", "start", "end", "rows"), DST)
def test_dst(tz, layer, start, end, rows):
    start, end = local(tz, start), local(tz, end)
    shifts = rotation_shifts(layer, tz, start, end)
    assert table(tz, shifts) == expected(tz, rows)
    assert_points_agree(tz, [layer], [], shifts, start, end)


@pytest.mark.parametrize(
    ("tz", "day", "at", "instant"),
    [
        (BERLIN, "2026-03-29", "02:30", "2026-03-29 01:00+00:00"),
        (BERLIN, "2026-10-25", "02:30", "2026-10-25 00:30+00:00"),
        (NEW_YORK, "2026-03-08", "02:30", "2026-03-08 07:00+00:00"),
        (NEW_YORK, "2026-11-01", "01:30", "2026-11-01 05:30+00:00"),
        (NEW_YORK, "2026-11-01", "02:30", "2026-11-01 07:30+00:00"),
    ],
)
def test_local_instant_at_the_changes(tz, day, at, instant):
    assert local_instant(dt.date.fromisoformat(day), dt.time.fromisoformat(at), tz) == local(dt.UTC, instant)


def test_a_window_across_the_spring_change_keeps_local_hours():
    """22:00-06:00 on the night of the change is seven hours long, not eight."""
    layer = rotation(1, "weeks", 1, "2026-03-23 09:00", "a", window="22:00-06:00")
    start, end = local(BERLIN, "2026-03-28 12:00"), local(BERLIN, "2026-03-29 12:00")
    shifts = rotation_shifts(layer, BERLIN, start, end)
    assert table(BERLIN, shifts) == expected(
        BERLIN, [("a", "2026-03-28 22:00+01:00", "2026-03-29 06:00+02:00")]
    )
    assert shifts[0].end - shifts[0].start == dt.timedelta(hours=7)


# --- layers and overrides --------------------------------------------------------------------------

WEEKLY = rotation(1, "weeks", 1, "2026-06-01 09:00", "ab")
BUSINESS = rotation(2, "days", 1, "2026-06-01 09:00", "cd", weekdays=(0, 1, 2, 3, 4), window="09:00-17:00")

LAYERED = [
    pytest.param(
        [],
        [
            ("c", "2026-06-01 09:00", "2026-06-01 17:00"),
            ("a", "2026-06-01 17:00", "2026-06-02 09:00"),
            ("d", "2026-06-02 09:00", "2026-06-02 17:00"),
            ("a", "2026-06-02 17:00", "2026-06-03 00:00"),
        ],
        id="higher layer wins, lower shows through",
    ),
    pytest.param(
        [cover(BERLIN, 1, "x", "2026-06-01 12:00", "2026-06-01 20:00")],
        [
            ("c", "2026-06-01 09:00", "2026-06-01 12:00"),
            ("x", "2026-06-01 12:00", "2026-06-01 20:00"),
            ("a", "2026-06-01 20:00", "2026-06-02 09:00"),
            ("d", "2026-06-02 09:00", "2026-06-02 17:00"),
            ("a", "2026-06-02 17:00", "2026-06-03 00:00"),
        ],
        id="override replaces whoever is on, across a layer change",
    ),
    pytest.param(
        [cover(BERLIN, 1, "y", "2026-06-02 08:00", "2026-06-02 18:00", replaces="a")],
        [
            ("c", "2026-06-01 09:00", "2026-06-01 17:00"),
            ("a", "2026-06-01 17:00", "2026-06-02 08:00"),
            ("y", "2026-06-02 08:00", "2026-06-02 09:00"),
            ("d", "2026-06-02 09:00", "2026-06-02 17:00"),
            ("y", "2026-06-02 17:00", "2026-06-02 18:00"),
            ("a", "2026-06-02 18:00", "2026-06-03 00:00"),
        ],
        id="override of one person only while that person is on",
    ),
    pytest.param(
        [
            cover(BERLIN, 1, "u", "2026-06-01 10:00", "2026-06-01 14:00"),
            cover(BERLIN, 2, "v", "2026-06-01 12:00", "2026-06-01 16:00"),
        ],
        [
            ("c", "2026-06-01 09:00", "2026-06-01 10:00"),
            ("u", "2026-06-01 10:00", "2026-06-01 12:00"),
            ("v", "2026-06-01 12:00", "2026-06-01 16:00"),
            ("c", "2026-06-01 16:00", "2026-06-01 17:00"),
            ("a", "2026-06-01 17:00", "2026-06-02 09:00"),
            ("d", "2026-06-02 09:00", "2026-06-02 17:00"),
            ("a", "2026-06-02 17:00", "2026-06-03 00:00"),
        ],
        id="overlapping overrides: the later-created wins",
    ),
    pytest.param(
        [
            cover(BERLIN, 2, "u", "2026-06-01 10:00", "2026-06-01 14:00"),
            cover(BERLIN, 1, "v", "2026-06-01 12:00", "2026-06-01 16:00"),
        ],
        [
            ("c", "2026-06-01 09:00", "2026-06-01 10:00"),
            ("u", "2026-06-01 10:00", "2026-06-01 14:00"),
            ("v", "2026-06-01 14:00", "2026-06-01 16:00"),
            ("c", "2026-06-01 16:00", "2026-06-01 17:00"),
            ("a", "2026-06-01 17:00", "2026-06-02 09:00"),
            ("d", "2026-06-02 09:00", "2026-06-02 17:00"),
            ("a", "2026-06-02 17:00", "2026-06-03 00:00"),
        ],
        id="overlapping overrides: created order, not start order",
    ),
    pytest.param(
        [
            cover(BERLIN, 1, "u", "2026-06-01 10:00", "2026-06-01 14:00"),
            cover(BERLIN, 2, "v", "2026-06-01 08:00", "2026-06-01 20:00", replaces="a"),
        ],
        [
            ("c", "2026-06-01 09:00", "2026-06-01 10:00"),
            ("u", "2026-06-01 10:00", "2026-06-01 14:00"),
            ("c", "2026-06-01 14:00", "2026-06-01 17:00"),
            ("v", "2026-06-01 17:00", "2026-06-01 20:00"),
            ("a", "2026-06-01 20:00", "2026-06-02 09:00"),
            ("d", "2026-06-02 09:00", "2026-06-02 17:00"),
            ("a", "2026-06-02 17:00", "2026-06-03 00:00"),
        ],
        id="a later override for someone else does not hide an earlier one",
    ),
    pytest.param(
        [cover(BERLIN, 1, "w", "2026-06-01 06:00", "2026-06-01 10:00")],
        [
            ("w", "2026-06-01 06:00", "2026-06-01 10:00"),
            ("c", "2026-06-01 10:00", "2026-06-01 17:00"),
            ("a", "2026-06-01 17:00", "2026-06-02 09:00"),
            ("d", "2026-06-02 09:00", "2026-06-02 17:00"),
            ("a", "2026-06-02 17:00", "2026-06-03 00:00"),
        ],
        id="an override covers a gap where no layer has anybody",
    ),
    pytest.param(
        [cover(BERLIN, 1, "c", "2026-06-01 17:00", "2026-06-01 19:00")],
        [
            ("c", "2026-06-01 09:00", "2026-06-01 19:00"),
            ("a", "2026-06-01 19:00", "2026-06-02 09:00"),
            ("d", "2026-06-02 09:00", "2026-06-02 17:00"),
            ("a", "2026-06-02 17:00", "2026-06-03 00:00"),
        ],
        id="touching pieces of one person merge",
    ),
]


@pytest.mark.parametrize(("covers", "rows"), LAYERED)
def test_layers_and_overrides(covers, rows):
    start, end = local(BERLIN, "2026-06-01 00:00"), local(BERLIN, "2026-06-03 00:00")
    layers = [(layer, rotation_shifts(layer, BERLIN, start, end)) for layer in (WEEKLY, BUSINESS)]
    overrides, final = flatten(layers, covers, start, end)
    assert table(BERLIN, final) == expected(BERLIN, rows)
    assert [shift.override_id for shift in overrides] == sorted(
        (c.id for c in covers), key=lambda i: next(c.starts_at for c in covers if c.id == i)
    )
    assert_points_agree(BERLIN, [WEEKLY, BUSINESS], covers, final, start, end)


def test_final_shifts_name_their_source():
    start, end = local(BERLIN, "2026-06-01 00:00"), local(BERLIN, "2026-06-02 00:00")
    covers = [cover(BERLIN, 7, "x", "2026-06-01 12:00", "2026-06-01 14:00")]
    layers = [(layer, rotation_shifts(layer, BERLIN, start, end)) for layer in (WEEKLY, BUSINESS)]
    _, final = flatten(layers, covers, start, end)
    assert [(NAMES[s.user_id], s.layer_id, s.override_id) for s in final] == [
        ("c", BUSINESS.id, None),
        ("x", None, 7),
        ("c", BUSINESS.id, None),
        ("a", WEEKLY.id, None),
    ]


@pytest.mark.parametrize(
    ("at", "covers", "everyone"),
    [
        ("2026-06-01 12:00", [], ["c", "a"]),
        ("2026-06-01 20:00", [], ["a"]),
        ("2026-06-01 12:00", [cover(BERLIN, 1, "x", "2026-06-01 11:00", "2026-06-01 13:00")], ["x", "a"]),
        (
            "2026-06-01 12:00",
            [cover(BERLIN, 1, "y", "2026-06-01 11:00", "2026-06-01 13:00", replaces="a")],
            ["c", "y"],
        ),
        ("2026-06-01 12:00", [cover(BERLIN, 1, "a", "2026-06-01 11:00", "2026-06-01 13:00")], ["a"]),
        ("2026-06-01 08:00", [], []),
    ],
)
def test_every_layer_in_level_order(at, covers, everyone):
    people = users_at([WEEKLY, BUSINESS], covers, BERLIN, local(BERLIN, at), all_layers=True)
    assert [NAMES[person] for person in people] == everyone
