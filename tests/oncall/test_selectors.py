import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from oncall.models import Schedule
from oncall.selectors import oncall_at, schedule_shifts, user_shifts
from tests.factories import UserFactory
from tests.oncall.support_schedules import layer_make, override_make, two_layer_schedule

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.fixture
def people():
    return {name: UserFactory(username=name) for name in ("alice", "bob", "carol", "dave", "xavier", "yves")}


@pytest.fixture
def ops(people):
    return two_layer_schedule(
        name="Ops", primary=[people["alice"], people["bob"]], daytime=[people["carol"], people["dave"]]
    )


def names(answer: dict, schedule: Schedule) -> list[str]:
    return [user.username for user in answer[schedule.id]]


@pytest.mark.parametrize(
    ("at", "top", "everyone"),
    [
        ("2026-06-01 08:59", [], []),
        ("2026-06-01 09:00", ["carol"], ["carol", "alice"]),
        ("2026-06-01 17:00", ["alice"], ["alice"]),
        ("2026-06-02 10:00", ["dave"], ["dave", "alice"]),
        ("2026-06-06 10:00", ["alice"], ["alice"]),
        ("2026-06-08 10:00", ["dave"], ["dave", "bob"]),  # weekend days count as turns
    ],
)
def test_oncall_at_layers(ops, at, top, everyone):
    assert names(oncall_at(schedules=[ops], at=berlin(at)), ops) == top
    assert names(oncall_at(schedules=[ops], at=berlin(at), all_layers=True), ops) == everyone


def test_oncall_at_overrides_in_force_only(ops, people):
    override_make(
        schedule=ops,
        user=people["xavier"],
        starts_at=berlin("2026-06-01 12:00"),
        ends_at=berlin("2026-06-01 13:00"),
    )
    override_make(
        schedule=ops,
        user=people["yves"],
        replaces=people["alice"],
        starts_at=berlin("2026-06-01 12:00"),
        ends_at=berlin("2026-06-01 18:00"),
    )
    assert names(oncall_at(schedules=[ops], at=berlin("2026-06-01 11:59")), ops) == ["carol"]
    assert names(oncall_at(schedules=[ops], at=berlin("2026-06-01 12:00")), ops) == ["xavier"]
    assert names(oncall_at(schedules=[ops], at=berlin("2026-06-01 12:00"), all_layers=True), ops) == [
        "xavier",
        "yves",
    ]
    # The first override has ended at 13:00; the second only stands in for alice.
    assert names(oncall_at(schedules=[ops], at=berlin("2026-06-01 13:00")), ops) == ["carol"]
    assert names(oncall_at(schedules=[ops], at=berlin("2026-06-01 17:30")), ops) == ["yves"]


def test_oncall_at_defaults_to_now_and_every_schedule(people):
    always = Schedule.objects.create(name="Always", time_zone="UTC")
    layer_make(schedule=always, members=[people["alice"]], start_date=dt.date(2020, 1, 1))
    empty = Schedule.objects.create(name="Empty", time_zone="UTC")
    answer = oncall_at()
    assert names(answer, always) == ["alice"]
    assert answer[empty.id] == []
    assert oncall_at(schedules=Schedule.objects.filter(name="Always")).keys() == {always.id}
    assert oncall_at(schedules=[]) == {}


def test_oncall_at_many_schedules_in_constant_queries(people, django_assert_num_queries):
    def build(count: int, offset: int) -> list[Schedule]:
        made = []
        for number in range(count):
            schedule = two_layer_schedule(
                name=f"S{offset + number}",
                primary=[people["alice"], people["bob"]],
                daytime=[people["carol"], people["dave"]],
            )
            override_make(
                schedule=schedule,
                user=people["xavier"] if number % 2 else people["yves"],
                starts_at=berlin("2026-06-02 00:00"),
                ends_at=berlin("2026-06-02 11:00"),
            )
            made.append(schedule)
        return made

    one, twenty = build(1, 0), build(20, 100)
    at = berlin("2026-06-02 10:00")
    # Layers, members, overrides in force, users.
    with django_assert_num_queries(4):
        small = oncall_at(schedules=one, at=at, all_layers=True)
    with django_assert_num_queries(4):
        large = oncall_at(schedules=twenty, at=at, all_layers=True)
    assert names(small, one[0]) == ["yves", "alice"]
    assert [names(large, schedule) for schedule in twenty[:2]] == [["yves", "alice"], ["xavier", "alice"]]
    # Given as a queryset (or all of them), the schedules are one more query.
    with django_assert_num_queries(5):
        assert len(oncall_at(schedules=Schedule.objects.all(), at=at)) == 21
    with django_assert_num_queries(5):
        assert len(oncall_at(at=at)) == 21


def test_schedule_shifts(ops, people, django_assert_num_queries):
    override = override_make(
        schedule=ops,
        user=people["xavier"],
        starts_at=berlin("2026-06-01 12:00"),
        ends_at=berlin("2026-06-01 20:00"),
    )
    with django_assert_num_queries(3):
        shifts = schedule_shifts(
            schedule=ops, start=berlin("2026-06-01 00:00"), end=berlin("2026-06-02 12:00")
        )
    assert [layer.level for layer, _ in shifts.layers] == [2, 1]
    by_id = {user.id: user.username for user in people.values()}

    def rows(items):
        return [(by_id[s.user_id], s.start.astimezone(BERLIN), s.end.astimezone(BERLIN)) for s in items]

    assert rows(shifts.layers[0][1]) == [
        ("carol", berlin("2026-06-01 09:00"), berlin("2026-06-01 17:00")),
        ("dave", berlin("2026-06-02 09:00"), berlin("2026-06-02 12:00")),
    ]
    assert rows(shifts.layers[1][1]) == [("alice", berlin("2026-06-01 09:00"), berlin("2026-06-02 12:00"))]
    assert [s.override_id for s in shifts.overrides] == [override.id]
    assert rows(shifts.final) == [
        ("carol", berlin("2026-06-01 09:00"), berlin("2026-06-01 12:00")),
        ("xavier", berlin("2026-06-01 12:00"), berlin("2026-06-01 20:00")),
        ("alice", berlin("2026-06-01 20:00"), berlin("2026-06-02 09:00")),
        ("dave", berlin("2026-06-02 09:00"), berlin("2026-06-02 12:00")),
    ]


def test_user_shifts_across_schedules(ops, people, django_assert_num_queries):
    other = Schedule.objects.create(name="Databases", time_zone="America/New_York")
    layer_make(schedule=other, members=[people["bob"], people["alice"]], unit="days")
    elsewhere = Schedule.objects.create(name="Network", time_zone="UTC")
    layer_make(schedule=elsewhere, members=[people["dave"]])
    override_make(
        schedule=elsewhere,
        user=people["alice"],
        starts_at=berlin("2026-06-01 13:00"),
        ends_at=berlin("2026-06-01 14:00"),
    )
    with django_assert_num_queries(4):
        found = user_shifts(
            user=people["alice"], start=berlin("2026-06-01 00:00"), end=berlin("2026-06-03 00:00")
        )
    new_york = ZoneInfo("America/New_York")
    assert [(schedule.name, shift.start, shift.end) for schedule, shift in found] == [
        ("Network", berlin("2026-06-01 13:00"), berlin("2026-06-01 14:00")),
        ("Ops", berlin("2026-06-01 17:00"), berlin("2026-06-02 09:00")),
        (
            "Databases",
            dt.datetime(2026, 6, 2, 9, tzinfo=new_york),
            dt.datetime(2026, 6, 2, 18, tzinfo=new_york),
        ),
        ("Ops", berlin("2026-06-02 17:00"), berlin("2026-06-03 00:00")),
    ]
