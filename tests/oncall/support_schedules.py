"""Schedules for tests, written with the ORM (the schedule CRUD services are not the subject here)."""

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User

from oncall.models import Layer, LayerMember, Override, Schedule


def layer_make(
    *,
    schedule: Schedule,
    members: Sequence[User],
    level: int = 1,
    unit: str = "weeks",
    length: int = 1,
    start_date: dt.date = dt.date(2026, 6, 1),
    handoff: dt.time = dt.time(9),
    weekdays: Sequence[int] = (),
    window: tuple[dt.time, dt.time] | None = None,
) -> Layer:
    layer = Layer.objects.create(
        schedule=schedule,
        name=f"Level {level}",
        level=level,
        rotation_unit=unit,
        rotation_length=length,
        start_date=start_date,
        handoff_time=handoff,
        restrict_weekdays=list(weekdays),
        restrict_start_time=window[0] if window else None,
        restrict_end_time=window[1] if window else None,
    )
    LayerMember.objects.bulk_create(
        LayerMember(layer=layer, user=user, position=position) for position, user in enumerate(members)
    )
    return layer


def two_layer_schedule(*, name: str, primary: Sequence[User], daytime: Sequence[User]) -> Schedule:
    """Weekly `primary` from Monday 2026-06-01 09:00 Berlin; above it, Mon-Fri 09:00-17:00, a daily
    rotation of `daytime`."""
    schedule = Schedule.objects.create(name=name, time_zone="Europe/Berlin")
    layer_make(schedule=schedule, members=primary)
    layer_make(
        schedule=schedule,
        members=daytime,
        level=2,
        unit="days",
        weekdays=range(5),
        window=(dt.time(9), dt.time(17)),
    )
    return schedule


def override_make(
    *,
    schedule: Schedule,
    user: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    replaces: User | None = None,
) -> Override:
    return Override.objects.create(
        schedule=schedule, user=user, replaces=replaces, starts_at=starts_at, ends_at=ends_at
    )
