"""Response hours from an incident's record, as pure functions of times (no database): what the
incident page, the post-mortem and analytics all count."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Window:
    """A stretch of time the incident was being worked on: from opening (or a reopen) to its
    resolution or dismissal; `end` None while it is still open."""

    start: datetime
    end: datetime | None


def working_windows(*, opened_at: datetime, changes: Iterable[tuple[datetime, bool]]) -> list[Window]:
    """The windows, given when the incident opened and its changes as (when, open afterwards):
    a resolution or dismissal is (at, False), a reopen (at, True). A repeated change (closing a
    resolved incident) changes nothing."""
    windows: list[Window] = []
    start: datetime | None = opened_at
    for at, opens in sorted(changes, key=lambda change: change[0]):
        if opens and start is None:
            start = at
        elif not opens and start is not None:
            windows.append(Window(start=start, end=max(at, start)))
            start = None
    if start is not None:
        windows.append(Window(start=start, end=None))
    return windows


def union_length(intervals: Iterable[Interval]) -> timedelta:
    """The time covered by the intervals, overlaps counted once."""
    total, reach = timedelta(0), None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def involvement(*, starts: Iterable[datetime], windows: Sequence[Window], now: datetime) -> timedelta:
    """One person's response time: each start runs to the end of the window it falls in (now for
    an open window); starts outside every window (a note after resolution) add nothing."""
    intervals = []
    for at in starts:
        for window in windows:
            end = window.end if window.end is not None else max(now, window.start)
            if window.start <= at < end:
                intervals.append((at, end))
                break
    return union_length(intervals)


def involved(*, starts: Iterable[datetime], windows: Sequence[Window], now: datetime) -> bool:
    """Whether a person took part: a start within a window, its closing moment included (whoever
    resolved it is a responder, if one with no time of their own)."""
    return any(
        window.start <= at <= (window.end if window.end is not None else max(now, window.start))
        for at in starts
        for window in windows
    )


def meeting_time(*, length: timedelta, invitees: int) -> timedelta:
    """The review meeting in person-time: its length once per invitee."""
    return length * invitees
