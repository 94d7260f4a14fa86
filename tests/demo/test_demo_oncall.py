"""seed_demo's on-call: a two-layer schedule, the Ops default policy on the demo services, and the
banner's "who is on call now"."""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from demo.seed.oncall import oncall_now_line
from incidents.models import Service
from oncall.models import EscalationPolicy, PolicyService, Schedule
from oncall.selectors import oncall_at

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def _demo(db, settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--no-history", stdout=out)
    return out.getvalue()


def berlin(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def test_seed_makes_the_schedule_and_the_policy_once():
    out = seed()
    assert "On call: schedule Ops primary" in out
    seed()
    schedule = Schedule.objects.get(name="Ops primary")
    assert schedule.time_zone == "Europe/Berlin"
    layers = [
        (layer.level, layer.rotation_unit, layer.handoff_time, layer.restrict_weekdays, names)
        for layer in schedule.layers.order_by("level")
        for names in [[m.user.username for m in layer.members.order_by("position")]]
    ]
    assert layers == [
        (1, "weeks", dt.time(9), [], ["alice", "bob"]),
        (2, "days", dt.time(9), [0, 1, 2, 3, 4], ["dana", "erik"]),
    ]
    policy = EscalationPolicy.objects.get(name="Ops default")
    assert policy.repeat_count == 1
    steps = [
        (
            s.position,
            s.delay_minutes,
            s.notify_all_oncall,
            list(s.schedules.all()),
            [u.username for u in s.users.all()],
        )
        for s in policy.steps.order_by("position")
    ]
    assert steps == [(0, 0, False, [schedule], []), (1, 5, True, [schedule], ["admin"])]
    assert set(PolicyService.objects.values_list("service_id", flat=True)) == set(
        Service.objects.values_list("id", flat=True)
    )
    assert Schedule.objects.count() == 1 and EscalationPolicy.objects.count() == 1


@pytest.mark.parametrize(
    ("at", "now"),
    [
        # 2024-01-01 is turn 0 of both layers; 2026-06-01 is 126 weeks (and 882 days) later.
        ("2026-06-01 10:00", "Dana"),
        ("2026-06-02 10:00", "Erik"),
        ("2026-06-01 18:00", "Alice"),
        ("2026-06-06 12:00", "Alice"),
        ("2026-06-08 08:59", "Alice"),
        ("2026-06-08 18:00", "Bob"),
    ],
)
def test_the_banner_says_who_is_on_call(at, now):
    seed()
    assert oncall_now_line(at=berlin(at)) == f"On call now (Ops primary): {now}"


def test_the_banner_without_the_schedule():
    assert "run seed_demo" in oncall_now_line()


def test_step_two_reaches_every_layer():
    seed()
    schedule = Schedule.objects.get(name="Ops primary")
    people = oncall_at(schedules=[schedule], at=berlin("2026-06-01 10:00"), all_layers=True)[schedule.id]
    assert [user.username for user in people] == ["dana", "alice"]
