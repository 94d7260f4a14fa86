"""The on-call API (issue 13): schedules, layers, overrides, escalation policies and pages; writes
through the services, 400 with field errors, 401/403 for strangers and viewers, lists in a constant
number of queries."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from incidents.choices import IncidentStatus
from oncall.models import EscalationPolicy, Layer, Override, Page, Schedule
from tests.factories import ServiceFactory, UserFactory
from tests.incidents.api_support import client_for, token_client
from tests.oncall.config_support import channel_make, layer_make, policy_make, schedule_make

pytestmark = pytest.mark.django_db

BASE = "/api/v1/oncall"
SCHEDULES, LAYERS, OVERRIDES = f"{BASE}/schedules/", f"{BASE}/layers/", f"{BASE}/overrides/"
POLICIES, PAGES = f"{BASE}/escalation-policies/", f"{BASE}/pages/"


@pytest.fixture
def api(admin_user):
    return token_client(admin_user)


def test_every_oncall_url_needs_a_token():
    anonymous = client_for(None)
    for url in (SCHEDULES, LAYERS, OVERRIDES, POLICIES, PAGES):
        assert anonymous.get(url).status_code == 401, url
    assert anonymous.post(SCHEDULES, {"name": "x", "time_zone": "UTC"}).status_code == 401


def test_a_schedule_and_its_layer_are_created_read_changed_and_deleted(api):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")

    created = api.post(SCHEDULES, {"name": "Primary", "time_zone": "Europe/Berlin", "team": "payments"})
    assert created.status_code == 201, created.json()
    schedule_id = created.json()["id"]
    layer = api.post(
        LAYERS,
        {
            "schedule": schedule_id,
            "name": "Weekly",
            "rotation_unit": "weeks",
            "start_date": "2026-01-05",
            "handoff_time": "09:00",
            "members": [bob.pk, alice.pk],
        },
    )
    assert layer.status_code == 201, layer.json()
    assert layer.json()["members"] == [bob.pk, alice.pk]

    changed = api.patch(f"{LAYERS}{layer.json()['id']}/", {"members": [alice.pk], "level": 3})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["members"], changed.json()["level"], changed.json()["name"]) == (
        [alice.pk],
        3,
        "Weekly",
    )
    body = api.get(f"{SCHEDULES}{schedule_id}/").json()
    assert body["team"] == "payments" and [lay["members"] for lay in body["layers"]] == [[alice.pk]]

    assert api.patch(f"{SCHEDULES}{schedule_id}/", {"name": "Payments"}).json()["name"] == "Payments"
    assert api.delete(f"{LAYERS}{layer.json()['id']}/").status_code == 204
    assert api.delete(f"{SCHEDULES}{schedule_id}/").status_code == 204
    assert not Schedule.objects.exists() and not Layer.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Primary", "time_zone": "Atlantis/Capital"}, "time_zone"),
        ({"name": "Primary", "time_zone": "UTC", "status": "x"}, "status"),
        ({"time_zone": "UTC"}, "name"),
    ],
)
def test_a_bad_schedule_is_400_with_its_field(api, body, field):
    response = api.post(SCHEDULES, body)

    assert response.status_code == 400
    assert field in str(response.json())
    assert not Schedule.objects.exists()


def test_a_bad_layer_is_400_with_its_field_and_writes_nothing(api):
    schedule = schedule_make()
    gone = UserFactory(is_active=False)
    body = {"schedule": schedule.pk, "name": "L", "start_date": "2026-01-05", "handoff_time": "09:00"}

    for extra, field in (
        ({"members": [gone.pk]}, "members"),
        ({"members": [gone.pk], "restrict_weekdays": [9]}, "restrict_weekdays"),
        ({"members": [gone.pk], "restrict_start_time": "09:00"}, "restrict_end_time"),
        # A handoff is local to the schedule's zone: an offset would be silently dropped, so it is refused.
        ({"handoff_time": "09:00+01:00"}, "handoff_time"),
        ({"restrict_start_time": "09:00Z", "restrict_end_time": "17:00"}, "restrict_start_time"),
    ):
        response = api.post(LAYERS, {**body, **extra})
        assert response.status_code == 400, response.json()
        assert field in str(response.json())
    assert not Layer.objects.exists()


def test_a_responder_adds_an_override_and_a_viewer_cannot(responder, viewer):
    schedule, now = schedule_make(), timezone.now()
    body = {
        "schedule": schedule.pk,
        "user": responder.pk,
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=4)).isoformat(),
        "reason": "Holiday cover",
    }

    assert token_client(viewer).post(OVERRIDES, body).status_code == 403
    assert token_client(viewer).get(OVERRIDES).status_code == 200
    response = token_client(responder).post(OVERRIDES, body)

    assert response.status_code == 201, response.json()
    assert response.json()["created_by"] == responder.pk
    assert Override.objects.get().reason == "Holiday cover"


def test_an_override_that_ends_before_it_starts_is_400(responder):
    schedule, now = schedule_make(), timezone.now()
    response = token_client(responder).post(
        OVERRIDES,
        {
            "schedule": schedule.pk,
            "user": responder.pk,
            "starts_at": (now + timedelta(hours=2)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "reason": "Swap",
        },
    )

    assert response.status_code == 400
    assert "ends_at" in str(response.json())
    assert not Override.objects.exists()


def test_a_viewer_reads_but_cannot_write_schedules_or_policies(viewer):
    client = token_client(viewer)
    schedule = schedule_make()

    assert client.get(SCHEDULES).status_code == 200
    assert client.get(POLICIES).status_code == 200
    assert client.post(SCHEDULES, {"name": "Mine", "time_zone": "UTC"}).status_code == 403
    assert client.patch(f"{SCHEDULES}{schedule.pk}/", {"name": "Mine"}).status_code == 403
    assert client.delete(f"{SCHEDULES}{schedule.pk}/").status_code == 403
    assert client.post(POLICIES, {"name": "Mine", "steps": []}).status_code == 403


def test_a_policy_is_created_with_nested_steps_and_its_services(api):
    alice = UserFactory()
    schedule, channel, web = schedule_make(), channel_make(), ServiceFactory()

    response = api.post(
        POLICIES,
        {
            "name": "Payments",
            "repeat_count": 2,
            "steps": [
                {"delay_minutes": 0, "schedules": [schedule.pk]},
                {"delay_minutes": 10, "users": [alice.pk], "channels": [channel.pk]},
            ],
            "services": [web.pk],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(s["position"], s["delay_minutes"]) for s in body["steps"]] == [(0, 0), (1, 10)]
    assert body["steps"][1]["users"] == [alice.pk] and body["services"] == [web.pk]
    assert body["page_threshold"] == "P2" and body["notify_threshold"] == "P3"


def test_a_policy_step_error_is_400_naming_the_step(api):
    alice = UserFactory()

    response = api.post(POLICIES, {"name": "Payments", "steps": [{"delay_minutes": 5, "users": [alice.pk]}]})

    assert response.status_code == 400
    assert "steps.1.delay_minutes" in response.json()
    assert not EscalationPolicy.objects.exists()


def test_a_service_on_another_policy_is_400_naming_it(api):
    alice, web = UserFactory(), ServiceFactory()
    policy_make("Payments", users=[alice], services=[web])
    other = policy_make("Platform", users=[alice])

    response = api.patch(f"{POLICIES}{other.pk}/", {"services": [web.pk]})

    assert response.status_code == 400
    assert "Payments" in str(response.json()["services"])


def test_the_lists_run_a_constant_number_of_queries(api, open_incident, django_assert_num_queries):
    people = [UserFactory() for _ in range(3)]
    for number in range(3):
        schedule = schedule_make(name=f"S{number}")
        layer_make(schedule, people, level=1)
        layer_make(schedule, people[:2], level=2, name="Day")
        policy_make(f"P{number}", users=people, schedules=[schedule], services=[ServiceFactory()])
        now = timezone.now()
        Override.objects.create(
            schedule=schedule, user=people[0], starts_at=now, ends_at=now + timedelta(hours=1), reason="x"
        )
        Page.objects.create(incident=open_incident(title=f"Down {number}"), next_step_at=now)

    # Token (with its user; a superuser needs no permission queries), count, rows, and each prefetch:
    # schedules' layers, their members, the members' users; policies' steps with users, schedules
    # and channels, their service links and rule links; pages' incidents joined, their steps.
    expected = {SCHEDULES: 6, LAYERS: 4, OVERRIDES: 3, POLICIES: 9, PAGES: 4}
    for url, queries in expected.items():
        with django_assert_num_queries(queries):
            assert api.get(url).status_code == 200


def test_pages_are_listed_and_acknowledged_through_the_incident(api, open_incident, responder, viewer):
    incident = open_incident()
    page = Page.objects.create(incident=incident, next_step_at=timezone.now())

    assert token_client(viewer).post(f"{PAGES}{page.pk}/acknowledge/").status_code == 403
    response = token_client(responder).post(f"{PAGES}{page.pk}/acknowledge/")

    assert response.status_code == 200, response.json()
    # The escalation stopped in the same request: the answer says so.
    assert (response.json()["status"], response.json()["end_source"]) == ("acknowledged", "api")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IN_PROGRESS
    assert incident.timeline_events.filter(source="api", kind="acknowledged").exists()
    again = token_client(responder).post(f"{PAGES}{page.pk}/acknowledge/")
    assert again.status_code == 409
    listed = api.get(PAGES, {"incident": incident.reference}).json()["results"]
    assert [(row["id"], row["incident"]) for row in listed] == [(page.pk, incident.pk)]
    assert api.get(PAGES, {"mode": "notify"}).json()["results"] == []


# --- Who is on call, take over ----------------------------------------------------------------


def test_on_call_at_a_time_names_the_hand_computed_person(viewer):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    schedule = schedule_make(time_zone="Europe/Berlin")
    layer_make(
        schedule, [alice, bob], rotation_unit="days", start_date=date(2026, 1, 5), handoff_time=time(9)
    )
    client, url = token_client(viewer), f"{SCHEDULES}{schedule.pk}/on-call/"

    # Handoffs at 09:00 Berlin time, 08:00 UTC in January.
    for at, who in (
        ("2026-01-05T08:30:00Z", "alice"),
        ("2026-01-06T07:59:00Z", "alice"),
        ("2026-01-06T08:00:00Z", "bob"),
        ("2026-01-07T10:00:00+02:00", "alice"),
    ):
        response = client.get(url, {"at": at})
        assert response.status_code == 200, response.json()
        assert [user["username"] for user in response.json()["users"]] == [who], at
    assert client.get(url, {"at": "2026-01-04T12:00:00Z"}).json()["users"] == []


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01T00:00:00Z", ""])
def test_a_bad_at_is_400(api, at):
    schedule = schedule_make()

    response = api.get(f"{SCHEDULES}{schedule.pk}/on-call/", {"at": at})

    assert response.status_code == 400
    assert "at" in response.json()


def test_taking_over_through_the_api(responder, viewer):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    schedule = schedule_make(time_zone="UTC")
    layer_make(
        schedule, [alice, bob], rotation_unit="days", start_date=date(2026, 1, 5), handoff_time=time(9)
    )
    url = f"{SCHEDULES}{schedule.pk}/take-over/"
    until = timezone.now() + timedelta(hours=2)

    assert token_client(viewer).post(url, {}).status_code == 403
    response = token_client(responder).post(url, {"until": until.isoformat()})

    assert response.status_code == 201, response.json()
    assert response.json()["user"] == responder.pk
    on_call = token_client(responder).get(f"{SCHEDULES}{schedule.pk}/on-call/").json()["users"]
    assert [user["username"] for user in on_call] == ["responder"]
    past = token_client(responder).post(url, {"until": (timezone.now() - timedelta(hours=1)).isoformat()})
    assert past.status_code == 400 and "ends_at" in past.json()
