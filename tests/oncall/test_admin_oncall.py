"""The on-call admin's schedule views (issue 13): the timeline's bars against hand-computed shifts,
Take over (a POST through override_take_over) and My on-call."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.choices import EventKind
from notifications.models import Delivery
from oncall.models import Override, Page
from tests.factories import UserFactory
from tests.oncall.config_support import layer_make, policy_make, schedule_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def daily_pair(time_zone: str = "UTC"):
    """alice and bob take turns of a day, handing off at 09:00 local from Monday 5 January 2026."""
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    schedule = schedule_make(time_zone=time_zone)
    layer_make(schedule, [alice, bob], name="Primary", rotation_unit="days", start_date=date(2026, 1, 5))
    return schedule, alice, bob


def row_html(body: str, kind: str) -> str:
    match = re.search(rf'<div class="oncall-row oncall-row-{kind}">(.*?)</div>\s*</div>', body, re.S)
    assert match, kind
    return match.group(1)


def bars(html: str) -> list[tuple[str, str, str]]:
    """(left, width, title) of each bar, in order."""
    return re.findall(r'style="left: ([\d.]+)%; width: ([\d.]+)%; background: #\w+" title="([^"]+)"', html)


def test_the_timeline_shows_the_hand_computed_bars_of_a_simple_schedule(staff):
    schedule, alice, _bob = daily_pair()
    carol = UserFactory(username="carol")
    Override.objects.create(
        schedule=schedule,
        user=carol,
        starts_at=datetime(2026, 1, 7, 12, tzinfo=UTC),
        ends_at=datetime(2026, 1, 7, 18, tzinfo=UTC),
        reason="Dentist",
    )

    url = reverse("admin:oncall_schedule_change", args=[schedule.pk]) + "?timeline_from=2026-01-05"
    body = staff.get(url).content.decode()

    # 14 days are 336 hours; the rotation starts at 09:00 on the first day.
    layer = bars(row_html(body, "layer"))
    assert layer[0] == ("2.679", "7.143", "alice: Mon 05 Jan 09:00 to Tue 06 Jan 09:00 (UTC)")
    assert layer[1] == ("9.821", "7.143", "bob: Tue 06 Jan 09:00 to Wed 07 Jan 09:00 (UTC)")
    assert layer[-1] == ("95.536", "4.464", "bob: Sun 18 Jan 09:00 to Mon 19 Jan 00:00 (UTC)")
    assert len(layer) == 14
    assert bars(row_html(body, "overrides")) == [
        ("17.857", "1.786", "carol: Wed 07 Jan 12:00 to Wed 07 Jan 18:00 (UTC)")
    ]
    final = bars(row_html(body, "final"))
    assert final[2:5] == [
        ("16.964", "0.893", "alice: Wed 07 Jan 09:00 to Wed 07 Jan 12:00 (UTC)"),
        ("17.857", "1.786", "carol: Wed 07 Jan 12:00 to Wed 07 Jan 18:00 (UTC)"),
        ("19.643", "4.464", "alice: Wed 07 Jan 18:00 to Thu 08 Jan 09:00 (UTC)"),
    ]
    assert alice.username in body and "Take over" in body


def test_the_timeline_is_in_the_schedules_zone_across_a_dst_change(staff):
    schedule, *_ = daily_pair(time_zone="Europe/Berlin")

    url = reverse("admin:oncall_schedule_change", args=[schedule.pk]) + "?timeline_from=2026-03-22"
    layer = bars(row_html(staff.get(url).content.decode(), "layer"))

    # 22 March to 5 April in Berlin is 335 hours (29 March has 23); the handoff stays at 09:00.
    assert layer[0][0:2] == ("0.000", "2.687") and layer[0][2].endswith("Sun 22 Mar 09:00 (Europe/Berlin)")
    dst = [bar for bar in layer if "Sat 28 Mar 09:00 to Sun 29 Mar 09:00" in bar[2]]
    assert [bar[1] for bar in dst] == ["6.866"]


def test_take_over_from_the_schedule_page_is_a_post_that_adds_an_override(client, responder):
    schedule, *_ = daily_pair()
    client.force_login(responder)
    url = reverse("admin:oncall_schedule_take_over", args=[schedule.pk])

    assert client.get(url).status_code == 405
    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:oncall_schedule_change", args=[schedule.pk])
    override = Override.objects.get()
    assert override.user == responder and override.ends_at > timezone.now()
    assert override.reason in ("Taken over from alice", "Taken over from bob")


def test_a_refused_take_over_is_a_message_and_writes_nothing(client, viewer):
    schedule, *_ = daily_pair()
    client.force_login(viewer)

    response = client.post(reverse("admin:oncall_schedule_take_over", args=[schedule.pk]), follow=True)

    assert "You may not add overrides." in response.content.decode()
    assert not Override.objects.exists()


def test_my_oncall_shows_my_shift_my_pages_and_take_over(client, open_incident):
    alice, bob = UserFactory(username="alice", groups=["Responder"]), UserFactory(username="bob")
    today = timezone.now().date()
    primary = schedule_make(name="Primary", time_zone="UTC")
    layer_make(
        primary, [alice], rotation_unit="weeks", start_date=today - timedelta(days=3), handoff_time=time(0)
    )
    backup = schedule_make(name="Backup", time_zone="UTC")
    layer_make(
        backup,
        [bob, alice],
        rotation_unit="weeks",
        start_date=today - timedelta(days=3),
        handoff_time=time(0),
    )
    paged, other = open_incident(title="Checkout down"), open_incident(title="Search slow")
    for incident in (paged, other):
        Page.objects.create(incident=incident, next_step_at=timezone.now())
    Delivery.objects.create(
        event_key="page-1",
        target_key="alice-sms",
        event_kind=EventKind.PAGE,
        incident=paged,
        user=alice,
        contact_kind="sms",
        next_attempt_at=timezone.now(),
    )
    client.force_login(alice)

    body = client.get(reverse("admin:oncall_schedule_mine")).content.decode()

    current = body.split('id="my-current"')[1].split('id="my-upcoming"')[0]
    upcoming = body.split('id="my-upcoming"')[1].split('id="my-pages"')[0]
    pages = body.split('id="my-pages"')[1].split('id="my-schedules"')[0]
    schedules = body.split('id="my-schedules"')[1]
    assert "Primary" in current and "Backup" not in current
    assert "Backup" in upcoming
    assert "Checkout down" in pages and "Search slow" not in pages
    # Take over is offered where someone else is on call (Backup: bob), not where I am already.
    assert schedules.count('value="Take over"') == 1
    assert reverse("admin:oncall_schedule_take_over", args=[backup.pk]) in schedules
    assert reverse("admin:oncall_schedule_mine") in client.get(reverse("admin:index")).content.decode()


def test_a_viewer_sees_a_schedule_and_a_policy_read_only(client, viewer):
    schedule, alice, _bob = daily_pair()
    policy = policy_make(users=[alice], schedules=[schedule])
    client.force_login(viewer)

    page = client.get(reverse("admin:oncall_schedule_change", args=[schedule.pk]))
    assert page.status_code == 200
    assert "alice, bob" in page.content.decode() and "Take over" not in page.content.decode()
    assert client.get(reverse("admin:oncall_escalationpolicy_change", args=[policy.pk])).status_code == 200
