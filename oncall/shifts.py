"""Schedule math: who is on call when. Pure functions over plain values (no queries).

Times in and out are aware datetimes (results in UTC); handoffs and restriction windows are local
wall-clock times in the schedule's zone. A local time that does not exist (spring forward) means the
first valid instant after it; an ambiguous one (fall back) means its first occurrence (fold=0).

Days and weeks rotations hand off at the local wall-clock time (a 09:00 daily handoff stays 09:00
across DST, so a turn may last 23 or 25 hours); hours rotations step in elapsed hours from the first
turn's start. Everything that answers "at T" is arithmetic on T, never a walk over the turns.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

UTC = dt.UTC
_HOURS, _DAYS, _WEEKS = "hours", "days", "weeks"


@dataclass(frozen=True)
class Shift:
    """One person on call from `start` to `end` (end excluded), from a layer or an override."""

    user_id: int
    start: dt.datetime
    end: dt.datetime
    layer_id: int | None = None
    override_id: int | None = None


@dataclass(frozen=True)
class Rotation:
    """A layer as plain values; `members` are user ids in position order."""

    id: int | None
    level: int
    unit: str
    length: int
    start_date: dt.date
    handoff_time: dt.time
    members: tuple[int, ...]
    weekdays: frozenset[int] = frozenset()
    window_start: dt.time | None = None
    window_end: dt.time | None = None

    @classmethod
    def of(cls, layer: Any, members: Sequence[int]) -> Rotation:
        """From a Layer instance (or anything with its attributes) and its members' user ids."""
        return cls(
            id=layer.id,
            level=layer.level,
            unit=layer.rotation_unit,
            length=layer.rotation_length,
            start_date=layer.start_date,
            handoff_time=layer.handoff_time,
            members=tuple(members),
            weekdays=frozenset(layer.restrict_weekdays or ()),
            window_start=layer.restrict_start_time,
            window_end=layer.restrict_end_time,
        )

    @property
    def restricted(self) -> bool:
        return bool(self.weekdays) or self.window_start is not None


@dataclass(frozen=True)
class Cover:
    """An override as plain values. `rank` orders overlapping covers: the highest (created last) wins."""

    id: int | None
    user_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    replaces_id: int | None = None
    rank: tuple = ()

    @classmethod
    def of(cls, override: Any) -> Cover:
        return cls(
            id=override.id,
            user_id=override.user_id,
            starts_at=override.starts_at,
            ends_at=override.ends_at,
            replaces_id=override.replaces_id,
            rank=(override.created_at, override.id),
        )


@dataclass
class ScheduleShifts:
    """A schedule over a range: each layer's shifts (highest level first), the overrides, and the
    final, flattened shifts (what pages and feeds use)."""

    layers: list[tuple[Any, list[Shift]]] = field(default_factory=list)
    overrides: list[Shift] = field(default_factory=list)
    final: list[Shift] = field(default_factory=list)


# --- local time ------------------------------------------------------------------------------------


# Pure and called with few distinct arguments (handoffs and windows repeat across layers, days and
# calls): remembering answers makes a lookup over thousands of layers mostly dictionary hits.
@lru_cache(maxsize=16384)
def local_instant(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of local `day` `at` in `tz`: a skipped time moves to the first valid instant
    after it (the transition), an ambiguous one takes its first occurrence."""
    wall = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = wall.replace(tzinfo=tz).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # In a gap fold=0 reads the wall time with the offset from before the change and fold=1 with the
    # one after; the transition lies between the two readings. Offsets change on whole seconds.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first
    if low > high:
        low, high = high, low
    before = low.astimezone(tz).utcoffset()
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(UTC)


# --- one rotation ----------------------------------------------------------------------------------


def _period_days(rotation: Rotation) -> int:
    return rotation.length * (7 if rotation.unit == _WEEKS else 1)


def turn_start(rotation: Rotation, tz: ZoneInfo, index: int) -> dt.datetime:
    """When turn `index` (0: the first member's first turn) starts."""
    if rotation.unit == _HOURS:
        first = local_instant(rotation.start_date, rotation.handoff_time, tz)
        return first + dt.timedelta(hours=rotation.length * index)
    day = rotation.start_date + dt.timedelta(days=_period_days(rotation) * index)
    return local_instant(day, rotation.handoff_time, tz)


def turn_index(rotation: Rotation, tz: ZoneInfo, at: dt.datetime) -> int:
    """The number of turns begun before `at`, minus one: -1 before the first turn."""
    first = local_instant(rotation.start_date, rotation.handoff_time, tz)
    if at < first:
        return -1
    if rotation.unit == _HOURS:
        return int((at - first) // dt.timedelta(hours=rotation.length))
    elapsed_days = (at.astimezone(tz).date() - rotation.start_date).days
    index = elapsed_days // _period_days(rotation)
    # The local date puts us on the right turn or next to it (a handoff time that moved at DST).
    while index > 0 and turn_start(rotation, tz, index) > at:
        index -= 1
    while turn_start(rotation, tz, index + 1) <= at:
        index += 1
    return index


def _window(rotation: Rotation, tz: ZoneInfo, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """The restriction window that starts on local `day`, or None when the day is left out. A window
    that wraps past midnight belongs to the day it starts on."""
    if rotation.weekdays and day.weekday() not in rotation.weekdays:
        return None
    if rotation.window_start is None or rotation.window_end is None:
        return local_instant(day, dt.time(0), tz), local_instant(day + dt.timedelta(days=1), dt.time(0), tz)
    end_day = day if rotation.window_end > rotation.window_start else day + dt.timedelta(days=1)
    return local_instant(day, rotation.window_start, tz), local_instant(end_day, rotation.window_end, tz)


def in_window(rotation: Rotation, tz: ZoneInfo, at: dt.datetime) -> bool:
    if not rotation.restricted:
        return True
    today = at.astimezone(tz).date()
    for offset in (-1, 0, 1):
        window = _window(rotation, tz, today + dt.timedelta(days=offset))
        if window is not None and window[0] <= at < window[1]:
            return True
    return False


def rotation_user_at(rotation: Rotation, tz: ZoneInfo, at: dt.datetime) -> int | None:
    """The member on this layer at `at`, or None (no members, before the start, outside the window)."""
    if not rotation.members:
        return None
    index = turn_index(rotation, tz, at)
    if index < 0 or not in_window(rotation, tz, at):
        return None
    return rotation.members[index % len(rotation.members)]


def _windows(rotation: Rotation, tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[list]:
    """The layer's windows overlapping [start, end), clipped and with touching ones joined."""
    if not rotation.restricted:
        return [[start, end]]
    first_day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last_day = end.astimezone(tz).date() + dt.timedelta(days=1)
    spans: list[list] = []
    day = first_day
    while day <= last_day:
        window = _window(rotation, tz, day)
        day += dt.timedelta(days=1)
        if window is None:
            continue
        low, high = max(window[0], start), min(window[1], end)
        if low >= high:
            continue
        if spans and spans[-1][1] >= low:
            spans[-1][1] = max(spans[-1][1], high)
        else:
            spans.append([low, high])
    return spans


def rotation_shifts(rotation: Rotation, tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """The layer's shifts overlapping [start, end), clipped to it: each turn cut to the windows."""
    start, end = _utc(start), _utc(end)
    if not rotation.members or start >= end:
        return []
    windows = _windows(rotation, tz, start, end)
    shifts: list[Shift] = []
    index = max(turn_index(rotation, tz, start), 0)
    begin = turn_start(rotation, tz, index)
    cursor = 0
    while begin < end:
        finish = turn_start(rotation, tz, index + 1)
        user = rotation.members[index % len(rotation.members)]
        low_turn, high_turn = max(begin, start), min(finish, end)
        while cursor < len(windows) and windows[cursor][1] <= low_turn:
            cursor += 1
        probe = cursor
        while probe < len(windows) and windows[probe][0] < high_turn:
            low, high = max(windows[probe][0], low_turn), min(windows[probe][1], high_turn)
            if low < high:
                shifts.append(Shift(user, low, high, layer_id=rotation.id))
            probe += 1
        index, begin = index + 1, finish
    return shifts


# --- layers and overrides together -----------------------------------------------------------------


def _by_level(rotations: Iterable[Rotation]) -> list[Rotation]:
    return sorted(rotations, key=lambda rotation: -rotation.level)


def _covers_at(covers: Iterable[Cover], at: dt.datetime) -> list[Cover]:
    """The covers in force at `at`, the one created last first."""
    return sorted(
        (cover for cover in covers if cover.starts_at <= at < cover.ends_at),
        key=lambda cover: cover.rank,
        reverse=True,
    )


def _apply(covers: list[Cover], person: int | None) -> tuple[int | None, Cover | None]:
    """Who replaces `person`: the latest cover that covers anybody, or this person in particular."""
    for cover in covers:
        if cover.replaces_id is None or (person is not None and cover.replaces_id == person):
            return cover.user_id, cover
    return person, None


def users_at(
    rotations: Iterable[Rotation],
    covers: Iterable[Cover],
    tz: ZoneInfo,
    at: dt.datetime,
    all_layers: bool = False,
) -> list[int]:
    """Who is on call at `at`: the highest layer that has somebody, after overrides. With
    `all_layers`, every layer's person (after the overrides that name them, the top one after any
    override), in level order without repeats."""
    at = _utc(at)
    active = _covers_at(covers, at)
    if not all_layers:
        # The layers below the first one that has somebody do not matter: stop there.
        top = None
        for rotation in _by_level(rotations):
            top = rotation_user_at(rotation, tz, at)
            if top is not None:
                break
        final, _ = _apply(active, top)
        return [] if final is None else [final]
    people = [rotation_user_at(rotation, tz, at) for rotation in _by_level(rotations)]
    top = next((person for person in people if person is not None), None)
    final, _ = _apply(active, top)
    named = [cover for cover in active if cover.replaces_id is not None]
    result: list[int] = [] if final is None else [final]
    seen_top = False
    for person in people:
        if person is None:
            continue
        if not seen_top:
            seen_top = True
            continue
        replaced, _ = _apply(named, person)
        if replaced not in result:
            result.append(replaced)
    return result


def flatten(
    layers: Sequence[tuple[Rotation, list[Shift]]],
    covers: Iterable[Cover],
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[list[Shift], list[Shift]]:
    """Overrides clipped to the range, and the final shifts: in each stretch the highest layer that
    has somebody, then overrides; touching pieces of one person joined (a joined piece keeps a
    layer or override id only when all its parts share it)."""
    start, end = _utc(start), _utc(end)
    covers = [cover for cover in covers if cover.starts_at < end and cover.ends_at > start]
    override_shifts = sorted(
        (
            Shift(cover.user_id, max(cover.starts_at, start), min(cover.ends_at, end), override_id=cover.id)
            for cover in covers
        ),
        key=lambda shift: (shift.start, shift.end),
    )
    ordered = [shifts for _, shifts in sorted(layers, key=lambda item: -item[0].level)]
    points = {start, end}
    for shifts in ordered:
        for shift in shifts:
            points.update((shift.start, shift.end))
    for cover in covers:
        points.update((max(cover.starts_at, start), min(cover.ends_at, end)))
    bounds = sorted(point for point in points if start <= point <= end)
    cursors = [0] * len(ordered)
    final: list[Shift] = []
    for low, high in itertools.pairwise(bounds):
        top: Shift | None = None
        for number, shifts in enumerate(ordered):
            while cursors[number] < len(shifts) and shifts[cursors[number]].end <= low:
                cursors[number] += 1
            if cursors[number] < len(shifts) and shifts[cursors[number]].start <= low:
                top = shifts[cursors[number]]
                break
        user, cover = _apply(_covers_at(covers, low), top.user_id if top else None)
        if user is None:
            continue
        piece = Shift(
            user,
            low,
            high,
            layer_id=None if cover or top is None else top.layer_id,
            override_id=cover.id if cover else None,
        )
        last = final[-1] if final else None
        if last is not None and last.user_id == user and last.end == low:
            final[-1] = Shift(
                user,
                last.start,
                high,
                layer_id=last.layer_id if last.layer_id == piece.layer_id else None,
                override_id=last.override_id if last.override_id == piece.override_id else None,
            )
        else:
            final.append(piece)
    return override_shifts, final


def schedule_shifts_of(
    layers: Sequence[tuple[Any, Rotation]],
    covers: Iterable[Cover],
    tz: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> ScheduleShifts:
    """Everything about a schedule over [start, end): `layers` pairs each Layer (or any label) with
    its rotation."""
    per_layer = [
        (label, rotation, rotation_shifts(rotation, tz, start, end))
        for label, rotation in sorted(layers, key=lambda item: -item[1].level)
    ]
    overrides, final = flatten([(rotation, shifts) for _, rotation, shifts in per_layer], covers, start, end)
    return ScheduleShifts(
        layers=[(label, shifts) for label, _, shifts in per_layer], overrides=overrides, final=final
    )
