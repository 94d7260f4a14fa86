"""Durations and rates as people read them, one formatter per granularity, shared by every app."""

from datetime import timedelta


def duration_rounded(value: timedelta | None, *, empty: str = "n/a") -> str:
    """One unit, rounded, for aggregates: `30 s`, `45 min`, `2.5 h`, `3.1 d`; `empty` for None."""
    if value is None:
        return empty
    minutes = value.total_seconds() / 60
    if minutes < 1:
        return f"{value.total_seconds():.0f} s"
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


def duration_hours_minutes(value: timedelta | None) -> str:
    """For a timeline's spans: `2 h 13 min`, `45 min`, `30 s`; empty for None."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def duration_precise(value: timedelta | None) -> str:
    """For runs and steps, down to the second: `1.2 s`, `45 s`, `3 min 5 s`, `2 h 10 min`; "-" for None."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def percent_text(value: float | None, *, empty: str = "n/a") -> str:
    """`42%`; `empty` for None."""
    return empty if value is None else f"{value:.0%}"
