"""Schedules, layers and policies made through the configuration services, as the admin and the API
make them, for the admin and API tests."""

from datetime import date, time

from django.contrib.auth.models import User

from common.actor import Actor, Source
from notifications.choices import ChannelKind
from notifications.models import Channel
from oncall.models import EscalationPolicy, Layer, Schedule
from oncall.services.policies import policy_save
from oncall.services.schedules import layer_save, schedule_save

SYSTEM = Actor.system(Source.SYSTEM, label="tests")


def schedule_make(name: str = "Primary", time_zone: str = "Europe/Berlin", **fields) -> Schedule:
    return schedule_save(by=SYSTEM, name=name, time_zone=time_zone, **fields)


def layer_make(schedule: Schedule, members: list[User], **fields) -> Layer:
    fields.setdefault("name", "Weekly")
    fields.setdefault("level", 1)
    fields.setdefault("rotation_unit", "days")
    fields.setdefault("rotation_length", 1)
    fields.setdefault("start_date", date(2026, 1, 5))
    fields.setdefault("handoff_time", time(9, 0))
    return layer_save(by=SYSTEM, schedule=schedule, member_ids=[u.pk for u in members], **fields)


def channel_make(name: str = "ops") -> Channel:
    return Channel.objects.create(name=name, kind=ChannelKind.EMAIL, config={"to": ["ops@example.com"]})


def policy_make(name: str = "Default", *, users: list[User], schedules=(), **fields) -> EscalationPolicy:
    steps = [{"delay_minutes": 0, "users": users, "schedules": list(schedules)}]
    if len(users) > 1:
        steps.append({"delay_minutes": 5, "users": users[1:]})
    return policy_save(by=SYSTEM, name=name, steps=steps, **fields)
