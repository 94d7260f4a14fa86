"""The history bars' arithmetic: a component's worst status on each day of the window, in the
page's time zone. Pure functions over (time, status) changes, so the selectors hand them one query's
rows and the JSON helper can reuse them.

A component has the status of a change from its `at` until the next change; before its first change
in the window it has the status of the last change before the window (operational when there is
none). A day is [local midnight, next local midnight), so DST days last 23 or 25 hours."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from statuspage.choices import SEVERITY, ComponentStatus


@dataclass(frozen=True)
class Day:
    date: date
    start: datetime  # local midnight, in UTC
    end: datetime  # the next local midnight (or now, for today), in UTC


def window_days(*, days: int, time_zone: str, now: datetime) -> list[Day]:
    """The last `days` days up to and including today in `time_zone`, oldest first. Today ends now."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    found = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        # Midnight as a wall time in the zone: zoneinfo gives the right offset on either side of DST.
        # In UTC from there on: Python compares and subtracts two times of one zone by wall clock.
        start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        found.append(Day(date=day, start=start, end=min(end, now)))
    return found


def day_worst(*, changes: Sequence[tuple[datetime, str]], before: str, days: Sequence[Day]) -> list[str]:
    """The worst status each day saw. `changes` are the component's changes inside the window,
    ordered by time; `before` is its status when the window opens."""
    if not days:
        return []
    # Today ends now, and a change made at this very instant still shows: the window is closed at
    # its end, which a microsecond past it stands for.
    close = days[-1].end + timedelta(microseconds=1)
    # Spans of one status: (start, end, status); the last runs to the end of the window.
    spans = []
    current, since = before, days[0].start
    for at, status in changes:
        spans.append((since, at, current))
        current, since = status, at
    spans.append((since, max(close, since), current))
    found = []
    first = 0  # spans ending before this day are never looked at again: one pass over both lists
    for number, day in enumerate(days):
        end = close if number == len(days) - 1 else day.end
        while first < len(spans) - 1 and spans[first][1] <= day.start:
            first += 1
        statuses = []
        for start, stop, status in spans[first:]:
            if start >= end:
                break
            if stop > day.start and stop > start:  # a span of no length (two changes at once) shows nothing
                statuses.append(status)
        found.append(max(statuses, key=SEVERITY.__getitem__, default=ComponentStatus.OPERATIONAL))
    return found
