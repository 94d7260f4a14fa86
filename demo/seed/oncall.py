"""The demo's on-call: "Ops primary" (Europe/Berlin) with two layers, and the "Ops default"
escalation policy on every demo service.

- Layer 1 (level 1): the demo responders, alice and bob, weekly, handing off Monday 09:00.
- Layer 2 (level 2, wins): business hours Mon-Fri 09:00-17:00, dana and erik taking daily turns.
- Ops default: step 1 pages whoever is on call; 5 minutes without an ack, step 2 pages every
  layer's on-call person and the ops lead (admin); the steps run once more after that.

Written through the same services as the admin and the API. Safe to run again: what exists is kept
as people changed it; only services that have no policy yet are linked to Ops default."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DatabaseError
from django.utils import timezone

from common.actor import Actor, Source
from incidents.models import Service
from oncall.choices import RotationUnit
from oncall.models import EscalationPolicy, PolicyService, Schedule
from oncall.selectors import oncall_at
from oncall.services.policies import policy_save, policy_services_set
from oncall.services.schedules import layer_save, schedule_save

SCHEDULE = "Ops primary"
POLICY = "Ops default"
TIME_ZONE = "Europe/Berlin"
# A Monday long past: the rotations are computed from it, so any start in the past works.
FIRST_MONDAY = dt.date(2024, 1, 1)
WEEKLY = ("alice", "bob")
# On call in business hours only; they have no demo login (seed_demo prints logins for USERS).
DAYTIME = (("dana", "Dana"), ("erik", "Erik"))
OPS_LEAD = "admin"


def _daytime_users() -> list:
    user_model = get_user_model()
    responders = Group.objects.get(name="Responder")
    users = []
    for username, first_name in DAYTIME:
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "email": f"{username}@example.com"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(responders)
        users.append(user)
    return users


def _schedule(users: dict[str, Any], by: Actor) -> tuple[Schedule, bool]:
    schedule = Schedule.objects.filter(name=SCHEDULE).first()
    if schedule is not None:
        return schedule, False
    schedule = schedule_save(
        by=by,
        name=SCHEDULE,
        time_zone=TIME_ZONE,
        team="Operations",
        description="Weekly primary; business-hours layer on top.",
    )
    layer_save(
        by=by,
        schedule=schedule,
        member_ids=[users[name].pk for name in WEEKLY],
        name="Primary (weekly)",
        level=1,
        rotation_unit=RotationUnit.WEEKS,
        rotation_length=1,
        start_date=FIRST_MONDAY,
        handoff_time=dt.time(9),
    )
    layer_save(
        by=by,
        schedule=schedule,
        member_ids=[user.pk for user in _daytime_users()],
        name="Business hours (daily)",
        level=2,
        rotation_unit=RotationUnit.DAYS,
        rotation_length=1,
        start_date=FIRST_MONDAY,
        handoff_time=dt.time(9),
        restrict_weekdays=[0, 1, 2, 3, 4],
        restrict_start_time=dt.time(9),
        restrict_end_time=dt.time(17),
    )
    return schedule, True


def _policy(schedule: Schedule, users: dict[str, Any], by: Actor) -> tuple[EscalationPolicy, bool]:
    policy = EscalationPolicy.objects.filter(name=POLICY).first()
    if policy is not None:
        return policy, False
    policy = policy_save(
        by=by,
        name=POLICY,
        description="Page the on-call; after 5 minutes without an ack, everyone on call and the ops lead.",
        repeat_count=1,
        steps=[
            {"delay_minutes": 0, "schedules": [schedule]},
            {
                "delay_minutes": 5,
                "schedules": [schedule],
                "users": [users[OPS_LEAD]],
                "notify_all_oncall": True,
            },
        ],
    )
    return policy, True


def oncall_ensure(*, services: dict[str, Service], users: dict[str, Any]) -> dict[str, Any]:
    """The schedule and the policy, and the policy on every demo service that has none."""
    by = Actor.system(source=Source.CLI, label="seed_demo")
    schedule, new_schedule = _schedule(users, by)
    policy, new_policy = _policy(schedule, users, by)
    unlinked = [s for s in services.values() if not PolicyService.objects.filter(service=s).exists()]
    if unlinked:
        policy_services_set(by=by, policy=policy, services=[*policy.services.all(), *unlinked])
    return {
        "schedule": schedule,
        "new_schedule": new_schedule,
        "policy": policy,
        "new_policy": new_policy,
        "linked": len(unlinked),
        "services": PolicyService.objects.filter(policy=policy).count(),
    }


def oncall_lines(*, base: str, oncall: dict[str, Any]) -> list[str]:
    return [
        "",
        f"  On call: schedule {oncall['schedule'].name} (weekly alice/bob; dana/erik in business hours,",
        f"    {TIME_ZONE}); policy {oncall['policy'].name} pages it on {oncall['services']} services.",
        f"    Schedules, overrides and policies: {base}/admin/oncall/",
    ]


def oncall_now_line(*, at: dt.datetime | None = None) -> str:
    """ "On call now (Ops primary): <name>", for `make run`'s banner."""
    try:
        schedule = Schedule.objects.filter(name=SCHEDULE).first()
    except DatabaseError:
        # The banner prints from a file seed_demo wrote; a database not migrated (the banner's own
        # test) leaves out this line rather than the logins.
        return f"On call now: unknown (the database has no {SCHEDULE!r} schedule yet)."
    if schedule is None:
        return f"On call now: no {SCHEDULE!r} schedule (run seed_demo)."
    people = oncall_at(schedules=[schedule], at=at or timezone.now())[schedule.id]
    names = ", ".join(user.get_full_name() or user.get_username() for user in people) or "nobody"
    return f"On call now ({schedule.name}): {names}"
