"""Who a page about each service reaches first: the service's policy's first step's people and whoever
is on call on its schedules. One selector for the API and My on-call, in a constant number of queries."""

import datetime as dt

import pytest
from django.urls import reverse

from oncall.selectors import services_oncall
from tests.factories import UserFactory
from tests.incidents.api_support import token_client
from tests.oncall.config_support import layer_make, policy_make, schedule_make

pytestmark = pytest.mark.django_db
URL = "/api/v1/oncall/services/"
# A Tuesday, 12:00 in Berlin: the daily rotation started on Monday 2026-01-05 09:00 is on its day 2.
AT = dt.datetime(2026, 1, 6, 11, 0, tzinfo=dt.UTC)


@pytest.fixture
def people(db):
    return {name: UserFactory(username=name) for name in ("alice", "bob", "carol", "dave")}


def catalog(service_factory, people, count: int, start: int = 0) -> list:
    """`count` services, each on a policy of its own: first step the lead plus a schedule on which
    alice and bob take daily turns."""
    made = []
    for n in range(start, start + count):
        schedule = schedule_make(name=f"Primary {n}")
        layer_make(schedule, [people["alice"], people["bob"]])
        service = service_factory(name=f"svc-{n}", slug=f"svc-{n}")
        policy_make(f"Policy {n}", users=[people["carol"]], schedules=[schedule], services=[service])
        made.append(service)
    return made


def test_each_service_reaches_its_first_steps_people_and_whoever_is_on_call(service_factory, people):
    [service] = catalog(service_factory, people, 1)
    service_factory(name="no-policy", slug="no-policy")

    [row] = services_oncall(at=AT)

    assert row.service == service and row.policy.name == "Policy 0"
    assert [user.username for user in row.users] == ["carol"]
    [(schedule, on_call)] = row.schedules
    assert schedule.name == "Primary 0" and [user.username for user in on_call] == ["bob"]
    # A day later the turn has passed to alice.
    [later] = services_oncall(at=AT + dt.timedelta(days=1))
    assert [user.username for user in later.schedules[0][1]] == ["alice"]


def test_the_query_count_does_not_grow_with_the_services(service_factory, people, django_assert_num_queries):
    catalog(service_factory, people, 1)
    with django_assert_num_queries(8):
        services_oncall(at=AT)
    catalog(service_factory, people, 3, start=1)
    with django_assert_num_queries(8):
        assert len(services_oncall(at=AT)) == 4


def test_the_api_answers_for_a_time_and_refuses_a_bad_one(service_factory, people, viewer):
    catalog(service_factory, people, 1)
    client = token_client(viewer)

    response = client.get(URL, {"at": AT.isoformat()})
    assert response.status_code == 200, response.content
    [row] = response.json()["services"]
    assert row["service_name"] == "svc-0" and row["policy_name"] == "Policy 0"
    assert [user["username"] for user in row["users"]] == ["carol"]
    assert [user["username"] for user in row["schedules"][0]["users"]] == ["bob"]

    bad = client.get(URL, {"at": "yesterday-ish"})
    assert bad.status_code == 400 and "at" in str(bad.json())
    assert token_client(UserFactory(username="nobody")).get(URL).status_code == 403
    assert client.__class__().get(URL).status_code == 401


def test_my_oncall_lists_the_services(client, service_factory, people, admin_user):
    catalog(service_factory, people, 1)
    client.force_login(admin_user)
    # The page answers for now: who that is depends on the day; the service, policy and lead do not.
    page = client.get(reverse("admin:oncall_schedule_mine")).content.decode()
    assert "Services: who a page reaches first" in page
    assert "svc-0" in page and "Policy 0" in page and "Primary 0: " in page and "carol" in page
