"""The configuration services (issue 13): every check before any write, field errors named, one
transaction, permissions like the rest of the house."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import AlertRule
from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError
from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    Override,
    PolicyService,
    Schedule,
)
from oncall.services.overrides import override_create, override_delete, override_take_over, override_update
from oncall.services.policies import policy_delete, policy_rules_set, policy_save, policy_services_set
from oncall.services.schedules import layer_delete, layer_save, schedule_delete, schedule_save
from tests.factories import ServiceFactory, UserFactory
from tests.oncall.config_support import SYSTEM, channel_make, layer_make, policy_make, schedule_make

pytestmark = pytest.mark.django_db


def field_errors(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# --- Schedules and layers ---------------------------------------------------------------------


def test_a_schedule_with_an_unknown_time_zone_is_refused_and_nothing_is_written():
    with pytest.raises(ValidationError) as excinfo:
        schedule_save(by=SYSTEM, name="Primary", time_zone="Mars/Olympus_Mons")

    assert "time_zone" in field_errors(excinfo)
    assert not Schedule.objects.exists()


def test_a_schedule_change_refused_leaves_the_row_and_the_callers_copy_alone():
    schedule = schedule_make(name="Primary")
    schedule_make(name="Secondary")

    with pytest.raises(ValidationError) as excinfo:
        schedule_save(by=SYSTEM, schedule=schedule, name="Secondary", time_zone="UTC")

    assert "name" in field_errors(excinfo)
    schedule.refresh_from_db()
    assert (schedule.name, schedule.time_zone) == ("Primary", "Europe/Berlin")


def test_a_viewer_may_not_add_a_schedule(viewer):
    with pytest.raises(PermissionDeniedError):
        schedule_save(by=Actor(viewer, Source.API), name="Primary", time_zone="UTC")


def test_a_layer_keeps_its_members_in_turn_order_and_replaces_them_whole():
    alice, bob, carol = (
        UserFactory(username="alice"),
        UserFactory(username="bob"),
        UserFactory(username="carol"),
    )
    schedule = schedule_make()
    layer = layer_make(schedule, [carol, alice])

    layer_save(
        by=SYSTEM,
        schedule=schedule,
        layer=layer,
        member_ids=[bob.pk, carol.pk, alice.pk],
        name="Weekly",
        restrict_weekdays=[4, 0, 4],
    )

    members = LayerMember.objects.filter(layer=layer).order_by("position")
    assert [m.user.username for m in members] == ["bob", "carol", "alice"]
    layer.refresh_from_db()
    assert layer.restrict_weekdays == [0, 4]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"restrict_weekdays": [7]}, "restrict_weekdays"),
        ({"restrict_start_time": time(9)}, "restrict_end_time"),
        ({"restrict_start_time": time(9), "restrict_end_time": time(9)}, "restrict_end_time"),
        ({"rotation_unit": "fortnights"}, "rotation_unit"),
        ({"name": "  "}, "name"),
    ],
)
def test_a_bad_layer_is_refused_with_its_field_and_members_are_untouched(changes, field):
    alice, bob = UserFactory(), UserFactory()
    schedule = schedule_make()
    layer = layer_make(schedule, [alice])

    with pytest.raises(ValidationError) as excinfo:
        layer_save(by=SYSTEM, schedule=schedule, layer=layer, member_ids=[bob.pk], **changes)

    assert field in field_errors(excinfo)
    assert list(layer.members.values_list("user_id", flat=True)) == [alice.pk]


def test_layer_members_must_be_active_distinct_and_present():
    schedule = schedule_make()
    alice, gone = UserFactory(), UserFactory(is_active=False, username="gone")
    base = {"name": "L", "start_date": date(2026, 1, 5), "handoff_time": time(9)}

    for ids, words in (
        ([], "at least one"),
        ([alice.pk, alice.pk], "repeats"),
        ([alice.pk, gone.pk], "gone"),
        ([alice.pk, 987654], "987654"),
    ):
        with pytest.raises(ValidationError) as excinfo:
            layer_save(by=SYSTEM, schedule=schedule, member_ids=ids, **base)
        assert words in " ".join(field_errors(excinfo)["members"])
    assert not Layer.objects.exists()


def test_two_layers_of_one_schedule_cannot_share_a_level():
    schedule, alice = schedule_make(), UserFactory()
    layer_make(schedule, [alice], level=2)

    with pytest.raises(ValidationError):
        layer_make(schedule, [alice], level=2, name="Other")
    assert schedule.layers.count() == 1


def test_deleting_a_schedule_named_by_a_step_leaves_the_step_with_its_other_targets():
    alice = UserFactory()
    schedule = schedule_make()
    layer_make(schedule, [alice])
    policy = policy_make(users=[alice], schedules=[schedule])

    layer_delete(by=SYSTEM, layer=schedule.layers.get())
    schedule_delete(by=SYSTEM, schedule=schedule)

    step = policy.steps.get()
    assert list(step.users.all()) == [alice] and not step.schedules.exists()


# --- Overrides --------------------------------------------------------------------------------


def test_a_responder_adds_changes_and_deletes_an_override(responder):
    by = Actor(responder, Source.ADMIN)
    schedule, now = schedule_make(), timezone.now()

    override = override_create(
        by=by,
        schedule=schedule,
        user=responder,
        starts_at=now,
        ends_at=now + timedelta(hours=8),
        reason="Cover",
    )
    assert override.created_by == responder
    override = override_update(
        by=by,
        override=override,
        user=responder,
        starts_at=now,
        ends_at=now + timedelta(hours=2),
        reason="Short",
    )
    assert Override.objects.get().reason == "Short"
    override_delete(by=by, override=override)
    assert not Override.objects.exists()


def test_a_viewer_may_not_add_an_override(viewer):
    now = timezone.now()
    with pytest.raises(PermissionDeniedError):
        override_create(
            by=Actor(viewer, Source.API),
            schedule=schedule_make(),
            user=viewer,
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            reason="x",
        )


@pytest.mark.parametrize(
    ("start", "end", "who", "reason", "field"),
    [
        (0, -1, "alice", "Cover", "ends_at"),
        (-5, -1, "alice", "Cover", "ends_at"),
        (0, 2, "gone", "Cover", "user"),
        (0, 2, "alice", " ", "reason"),
        (0, 2, "self", "Cover", "replaces"),
    ],
)
def test_a_bad_override_is_refused_with_its_field(start, end, who, reason, field):
    alice, gone = UserFactory(username="alice"), UserFactory(username="gone", is_active=False)
    now = timezone.now()
    user = gone if who == "gone" else alice

    with pytest.raises(ValidationError) as excinfo:
        override_create(
            by=SYSTEM,
            schedule=schedule_make(),
            user=user,
            replaces=alice if who == "self" else None,
            starts_at=now + timedelta(hours=start),
            ends_at=now + timedelta(hours=end),
            reason=reason,
        )

    assert field in field_errors(excinfo)
    assert not Override.objects.exists()


# --- Escalation policies ----------------------------------------------------------------------


def test_a_policy_is_saved_with_its_steps_services_and_rules_in_order():
    alice, bob = UserFactory(), UserFactory()
    schedule, channel = schedule_make(), channel_make()
    web, db = ServiceFactory(), ServiceFactory()
    rule = AlertRule.objects.create(name="disk")

    policy = policy_save(
        by=SYSTEM,
        name="Payments",
        repeat_count=2,
        steps=[
            {"delay_minutes": 0, "schedules": [schedule], "notify_all_oncall": True},
            {"delay_minutes": 5, "users": [alice, bob], "channels": [channel]},
        ],
        services=[web, db],
        alert_rules=[rule],
    )

    steps = list(EscalationStep.objects.filter(policy=policy).order_by("position"))
    assert [(s.position, s.delay_minutes, s.notify_all_oncall) for s in steps] == [
        (0, 0, True),
        (1, 5, False),
    ]
    assert set(steps[1].users.all()) == {alice, bob} and list(steps[1].channels.all()) == [channel]
    assert set(policy.services.all()) == {web, db} and list(policy.alert_rules.all()) == [rule]

    policy_services_set(by=SYSTEM, policy=policy, services=[db])
    assert list(policy.services.all()) == [db]


def test_a_service_on_another_policy_is_refused_naming_that_policy():
    alice, web = UserFactory(), ServiceFactory(name="Checkout")
    policy_make("Payments", users=[alice], services=[web])
    other = policy_make("Platform", users=[alice])

    with pytest.raises(ValidationError) as excinfo:
        policy_services_set(by=SYSTEM, policy=other, services=[web])

    assert "Payments" in " ".join(field_errors(excinfo)["services"])
    assert PolicyService.objects.get().policy.name == "Payments"


def test_an_alert_rule_on_another_policy_is_refused_naming_that_policy():
    alice, rule = UserFactory(), AlertRule.objects.create(name="disk")
    policy_make("Payments", users=[alice], alert_rules=[rule])
    other = policy_make("Platform", users=[alice])

    with pytest.raises(ValidationError) as excinfo:
        policy_rules_set(by=SYSTEM, policy=other, alert_rules=[rule])

    assert "Payments" in " ".join(field_errors(excinfo)["alert_rules"])


@pytest.mark.parametrize(
    ("steps", "key"),
    [
        ([], "steps"),
        ([{"delay_minutes": 3, "users": "alice"}], "steps.1.delay_minutes"),
        ([{"delay_minutes": 0}], "steps.1.users"),
        (
            [{"delay_minutes": 0, "users": "alice"}, {"delay_minutes": -1, "users": "alice"}],
            "steps.2.delay_minutes",
        ),
        ([{"delay_minutes": 0, "users": "alice", "notify_all_oncall": True}], "steps.1.notify_all_oncall"),
        ([{"delay_minutes": 0, "users": "gone"}], "steps.1.users"),
    ],
)
def test_bad_steps_are_refused_by_number_and_field_and_nothing_is_written(steps, key):
    people = {"alice": [UserFactory()], "gone": [UserFactory(is_active=False)]}
    steps = [{**step, "users": people[step["users"]]} if "users" in step else step for step in steps]

    with pytest.raises(ValidationError) as excinfo:
        policy_save(by=SYSTEM, name="Payments", steps=steps)

    assert key in field_errors(excinfo)
    assert not EscalationPolicy.objects.exists()


def test_a_notify_threshold_above_the_page_threshold_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        policy_make(users=[UserFactory()], page_threshold="P2", notify_threshold="P1")

    assert "notify_threshold" in field_errors(excinfo)


def test_a_refused_step_change_keeps_the_old_steps():
    alice = UserFactory()
    policy = policy_make(users=[alice])

    with pytest.raises(ValidationError):
        policy_save(by=SYSTEM, policy=policy, name="Renamed", steps=[{"delay_minutes": 0}])

    policy.refresh_from_db()
    assert policy.name == "Default" and policy.steps.count() == 1


def test_a_responder_may_not_change_a_policy_but_an_admin_may_delete_it(responder, admin_user):
    policy = policy_make(users=[responder])

    with pytest.raises(PermissionDeniedError):
        policy_save(by=Actor(responder, Source.API), policy=policy, name="Mine")
    policy_delete(by=Actor(admin_user, Source.API), policy=policy)
    assert not EscalationPolicy.objects.exists()


# --- Take over --------------------------------------------------------------------------------


def daily_pair(schedule_zone: str = "UTC"):
    """alice and bob take turns of a day, handing off at 09:00 UTC from Monday 5 January 2026."""
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    schedule = schedule_make(time_zone=schedule_zone)
    layer_make(
        schedule, [alice, bob], rotation_unit="days", start_date=date(2026, 1, 5), handoff_time=time(9)
    )
    return schedule, alice, bob


def current_turn(now):
    """Hand-computed: whose turn it is at `now` (0 alice, 1 bob) and when it ends."""
    first = datetime(2026, 1, 5, 9, tzinfo=UTC)
    turns = (now - first) // timedelta(days=1)
    return turns % 2, first + timedelta(days=turns + 1)


def test_taking_over_lasts_until_the_end_of_the_current_shift(responder):
    schedule, alice, bob = daily_pair()
    before = timezone.now()

    override = override_take_over(schedule=schedule, by=Actor(responder, Source.ADMIN))

    turn, end = current_turn(before)
    assert override.user == responder and override.ends_at == end
    assert before <= override.starts_at <= timezone.now()
    assert override.reason == f"Taken over from {(alice, bob)[turn].username}"


def test_taking_over_until_a_time_and_the_refusals(responder):
    schedule, *_ = daily_pair()
    by = Actor(responder, Source.ADMIN)
    until = timezone.now() + timedelta(hours=3)

    assert override_take_over(schedule=schedule, by=by, until=until).ends_at == until
    with pytest.raises(ValidationError) as excinfo:
        override_take_over(schedule=schedule, by=by)  # On call already now.
    assert "until" in field_errors(excinfo)
    with pytest.raises(ValidationError):
        override_take_over(schedule=schedule_make(name="Empty"), by=by)  # Nobody to take over from.
    with pytest.raises(PermissionDeniedError):
        override_take_over(schedule=schedule, by=Actor(UserFactory(groups=["Viewer"]), Source.ADMIN))
    assert Override.objects.count() == 1
