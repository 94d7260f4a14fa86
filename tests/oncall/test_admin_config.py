"""The on-call admin (issue 13): schedules with layers, overrides and policies with steps saved
through the services (a refusal shown on the form, nothing written), read-only pages and the
incident's Paging panel, changelists in a constant number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oncall.models import EscalationPolicy, Layer, Override, Page, PageStep, Schedule
from tests.factories import ServiceFactory, UserFactory
from tests.oncall.config_support import layer_make, policy_make, schedule_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def inline(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def layer_row(members: str, **changes) -> dict:
    row = {
        "name": "Weekly",
        "level": "1",
        "members": members,
        "rotation_unit": "weeks",
        "rotation_length": "1",
        "start_date": "2026-01-05",
        "handoff_time": "09:00",
        "restrict_start_time": "",
        "restrict_end_time": "",
    }
    row.update(changes)
    return row


def errors_of(response) -> str:
    return str(response.context["errors"]) + str(response.context["adminform"].form.errors)


# --- Schedules --------------------------------------------------------------------------------


def test_a_schedule_is_added_with_a_layer_whose_members_keep_their_order(staff):
    UserFactory(username="alice"), UserFactory(username="bob")

    response = staff.post(
        reverse("admin:oncall_schedule_add"),
        {
            "name": "Primary",
            "time_zone": "Europe/Berlin",
            "team": "payments",
            "description": "",
            **inline("layers", [layer_row("bob, alice", restrict_weekdays=["0", "4"])]),
        },
    )

    assert response.status_code == 302, errors_of(response)
    layer = Layer.objects.get(schedule__name="Primary")
    assert [m.user.username for m in layer.members.order_by("position")] == ["bob", "alice"]
    assert layer.restrict_weekdays == [0, 4]


def test_a_bad_time_zone_and_an_unknown_member_are_form_errors_and_nothing_is_written(staff):
    UserFactory(username="alice")
    url = reverse("admin:oncall_schedule_add")
    base = {"name": "Primary", "team": "", "description": ""}

    response = staff.post(
        url, {**base, "time_zone": "Moon/Tranquility", **inline("layers", [layer_row("alice")])}
    )
    assert response.status_code == 200
    assert "time_zone" in response.context["adminform"].form.errors

    response = staff.post(
        url, {**base, "time_zone": "UTC", **inline("layers", [layer_row("alice, mallory")])}
    )
    assert response.status_code == 200
    assert "mallory" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert not Schedule.objects.exists()


def test_a_layer_the_service_refuses_rolls_the_schedule_back_with_the_reason(staff):
    UserFactory(username="gone", is_active=False)

    response = staff.post(
        reverse("admin:oncall_schedule_add"),
        {
            "name": "Primary",
            "time_zone": "UTC",
            "team": "",
            "description": "",
            **inline("layers", [layer_row("gone")]),
        },
    )

    assert response.status_code == 200
    assert "Deactivated, cannot be on call: gone" in response.content.decode()
    assert not Schedule.objects.exists() and not Layer.objects.exists()


def test_changing_a_layer_replaces_its_members(staff):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    schedule = schedule_make()
    layer = layer_make(schedule, [alice, bob])
    row = {**layer_row("alice"), "id": str(layer.pk), "schedule": str(schedule.pk), "rotation_unit": "days"}

    response = staff.post(
        reverse("admin:oncall_schedule_change", args=[schedule.pk]),
        {
            "name": "Primary",
            "time_zone": "Europe/Berlin",
            "team": "",
            "description": "",
            **inline("layers", [row], 1),
        },
    )

    assert response.status_code == 302, errors_of(response)
    assert list(layer.members.values_list("user__username", flat=True)) == ["alice"]


def test_the_schedule_changelist_runs_a_constant_number_of_queries(staff, django_assert_num_queries):
    people = [UserFactory() for _ in range(3)]
    for number in range(4):
        schedule = schedule_make(name=f"S{number}", team=f"t{number}")
        layer_make(schedule, people, level=1)
        layer_make(schedule, people[:1], level=2, name="Day")

    # Session, user, count, rows, layers, their members, the members' users; the team and time zone
    # filters' choices.
    with django_assert_num_queries(9):
        response = staff.get(reverse("admin:oncall_schedule_changelist"))

    assert response.status_code == 200
    assert people[0].username in response.content.decode()


# --- Overrides --------------------------------------------------------------------------------


def test_a_responder_adds_an_override_in_the_admin(client, responder):
    client.force_login(responder)
    schedule, now = schedule_make(), timezone.localtime()

    response = client.post(
        reverse("admin:oncall_override_add"),
        {
            "schedule": schedule.pk,
            "user": responder.pk,
            "replaces": "",
            "starts_at_0": now.strftime("%Y-%m-%d"),
            "starts_at_1": now.strftime("%H:%M:%S"),
            "ends_at_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
            "ends_at_1": now.strftime("%H:%M:%S"),
            "reason": "Holiday cover",
        },
    )

    assert response.status_code == 302, errors_of(response)
    assert Override.objects.get().created_by == responder


def test_an_override_without_a_reason_is_a_form_error(staff, admin_user):
    schedule, now = schedule_make(), timezone.localtime()

    response = staff.post(
        reverse("admin:oncall_override_add"),
        {
            "schedule": schedule.pk,
            "user": admin_user.pk,
            "starts_at_0": now.strftime("%Y-%m-%d"),
            "starts_at_1": now.strftime("%H:%M:%S"),
            "ends_at_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
            "ends_at_1": now.strftime("%H:%M:%S"),
            "reason": "   ",
        },
    )

    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    assert not Override.objects.exists()


def test_a_viewer_sees_overrides_but_cannot_add_one(client, viewer):
    client.force_login(viewer)

    assert client.get(reverse("admin:oncall_override_changelist")).status_code == 200
    assert client.get(reverse("admin:oncall_override_add")).status_code == 403


def test_the_override_changelist_runs_a_constant_number_of_queries(staff, django_assert_num_queries):
    schedule, now = schedule_make(), timezone.now()
    for _ in range(5):
        Override.objects.create(
            schedule=schedule, user=UserFactory(), starts_at=now, ends_at=now + timedelta(hours=1), reason="x"
        )

    # Session, user, the schedule filter's choices, count, rows (schedule and people joined), and the
    # date drill-down's range and days.
    with django_assert_num_queries(7):
        assert staff.get(reverse("admin:oncall_override_changelist")).status_code == 200


# --- Escalation policies ----------------------------------------------------------------------


def step_row(order: int, delay: int, users: list, **more) -> dict:
    return {"order": str(order), "delay_minutes": str(delay), "users": [str(u.pk) for u in users], **more}


def test_a_policy_is_added_with_its_steps_in_the_order_typed_and_its_services(staff):
    alice, bob, web = UserFactory(), UserFactory(), ServiceFactory()

    response = staff.post(
        reverse("admin:oncall_escalationpolicy_add"),
        {
            "name": "Payments",
            "description": "",
            "repeat_count": "1",
            "page_threshold": "P2",
            "notify_threshold": "P3",
            "services": [str(web.pk)],
            **inline("steps", [step_row(20, 5, [bob]), step_row(10, 0, [alice])]),
        },
    )

    assert response.status_code == 302, errors_of(response)
    policy = EscalationPolicy.objects.get()
    steps = list(policy.steps.order_by("position"))
    assert [(list(s.users.all()), s.delay_minutes) for s in steps] == [([alice], 0), ([bob], 5)]
    assert list(policy.services.all()) == [web]


def test_a_refused_step_shows_on_its_row_and_nothing_is_written(staff):
    alice = UserFactory()

    response = staff.post(
        reverse("admin:oncall_escalationpolicy_add"),
        {
            "name": "Payments",
            "description": "",
            "repeat_count": "1",
            "page_threshold": "P2",
            "notify_threshold": "P3",
            **inline("steps", [step_row(10, 7, [alice])]),
        },
    )

    assert response.status_code == 200
    assert "its delay is 0" in response.content.decode()
    assert not EscalationPolicy.objects.exists()


def test_a_service_on_another_policy_is_a_form_error_naming_it(staff):
    alice, web = UserFactory(), ServiceFactory()
    policy_make("Platform", users=[alice], services=[web])

    response = staff.post(
        reverse("admin:oncall_escalationpolicy_add"),
        {
            "name": "Payments",
            "description": "",
            "repeat_count": "1",
            "page_threshold": "P2",
            "notify_threshold": "P3",
            "services": [str(web.pk)],
            **inline("steps", [step_row(10, 0, [alice])]),
        },
    )

    assert response.status_code == 200
    assert "Platform" in str(response.context["adminform"].form.errors["services"])


def test_the_policy_changelist_runs_a_constant_number_of_queries(staff, django_assert_num_queries):
    people = [UserFactory() for _ in range(3)]
    for number in range(4):
        policy_make(
            f"P{number}",
            users=people,
            schedules=[schedule_make(name=f"S{number}")],
            services=[ServiceFactory()],
        )

    # Session, user, count, rows; steps with their users, schedules and channels; service and rule links.
    with django_assert_num_queries(10):
        assert staff.get(reverse("admin:oncall_escalationpolicy_changelist")).status_code == 200


# --- Pages ------------------------------------------------------------------------------------


def make_page(incident, **fields) -> Page:
    page = Page.objects.create(incident=incident, next_step_at=timezone.now(), **fields)
    PageStep.objects.create(
        page=page,
        loop=0,
        position=0,
        due_at=timezone.now(),
        ran_at=timezone.now(),
        notified=["alice via SMS"],
    )
    return page


def test_the_page_changelist_is_read_only_and_runs_a_constant_number_of_queries(
    staff, open_incident, django_assert_num_queries
):
    policy = policy_make(users=[UserFactory()])
    for number in range(4):
        make_page(open_incident(title=f"Down {number}"), policy=policy)

    # Session, user, the policy filter's choices, count, rows (incident, policy, ended_by joined), the
    # steps, and the date drill-down's range and days.
    with django_assert_num_queries(8):
        response = staff.get(reverse("admin:oncall_page_changelist"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Escalating" in body and "Down 3" in body and "next step 1" in body
    assert staff.get(reverse("admin:oncall_page_add")).status_code == 403


def test_the_incident_page_shows_its_paging_panel(staff, open_incident):
    incident = open_incident()
    make_page(incident)

    body = staff.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()

    assert "Paging" in body and "alice via SMS" in body and "incident-paging" in body
