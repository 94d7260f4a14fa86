"""The schedule timeline on the schedule's page: a range of local days, one row per layer, one for
overrides, one for the final schedule, each shift a bar placed by percentages of the range (plain
HTML and CSS, no script)."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from oncall.models import Schedule
from oncall.selectors import schedule_shifts
from oncall.shifts import Shift

DAYS = 14
# Distinct, readable on white; a person keeps their colour on every row.
PALETTE = ("#1565c0", "#2e7d32", "#6a1b9a", "#c62828", "#ef6c00", "#00838f", "#4e342e", "#ad1457")


@dataclass(frozen=True)
class Bar:
    left: str  # Percent of the range, as CSS wants it ("12.500").
    width: str
    label: str
    title: str
    color: str


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    bars: list[Bar]


@dataclass(frozen=True)
class Tick:
    left: str
    label: str


@dataclass(frozen=True)
class Timeline:
    zone: str
    first_day: dt.date
    rows: list[Row]
    ticks: list[Tick]
    previous: dt.date
    following: dt.date


def _percent(value: float) -> str:
    return f"{value * 100:.3f}"


def schedule_timeline(*, schedule: Schedule, first_day: dt.date, days: int = DAYS) -> Timeline:
    """`days` local days from `first_day`'s midnight in the schedule's zone. Positions use elapsed
    time, so a DST day is 23 or 25 hours wide, as it was lived."""
    zone = ZoneInfo(schedule.time_zone)
    # In UTC: Python subtracts two datetimes of one tzinfo as wall-clock times, a DST day as 24 h.
    start = dt.datetime.combine(first_day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    total = (end - start).total_seconds()
    shifts = schedule_shifts(schedule=schedule, start=start, end=end)
    wanted = {s.user_id for _, row in shifts.layers for s in row} | {s.user_id for s in shifts.overrides}
    wanted |= {s.user_id for s in shifts.final}
    users = get_user_model().objects.in_bulk(wanted) if wanted else {}

    def bar(shift: Shift) -> Bar:
        user = users.get(shift.user_id)
        name = user.get_username() if user else f"user {shift.user_id}"
        local_start, local_end = shift.start.astimezone(zone), shift.end.astimezone(zone)
        shift_start, shift_end = shift.start.astimezone(dt.UTC), shift.end.astimezone(dt.UTC)
        return Bar(
            left=_percent((shift_start - start).total_seconds() / total),
            width=_percent((shift_end - shift_start).total_seconds() / total),
            label=name,
            title=f"{name}: {local_start:%a %d %b %H:%M} to {local_end:%a %d %b %H:%M} ({zone.key})",
            color=PALETTE[shift.user_id % len(PALETTE)],
        )

    rows = [
        Row(name=f"{layer.name} (level {layer.level})", kind="layer", bars=[bar(s) for s in layer_shifts])
        for layer, layer_shifts in shifts.layers
    ]
    rows.append(Row(name="Overrides", kind="overrides", bars=[bar(s) for s in shifts.overrides]))
    rows.append(Row(name="Final schedule", kind="final", bars=[bar(s) for s in shifts.final]))
    ticks = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
        ticks.append(Tick(left=_percent((midnight - start).total_seconds() / total), label=f"{day:%a %d}"))
    return Timeline(
        zone=schedule.time_zone,
        first_day=first_day,
        rows=rows,
        ticks=ticks,
        previous=first_day - dt.timedelta(days=days),
        following=first_day + dt.timedelta(days=days),
    )
