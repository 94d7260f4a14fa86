"""Hourly rates per team in the API and the admin: field errors, permissions, pinned query counts,
and a changed rate repricing its team's incidents."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics import tasks
from analytics.models import HourlyRate, IncidentCost
from analytics.services.cost import incident_cost_refresh
from tests.analytics.cost_support import hand_computed_incident
from tests.enqueued import enqueued
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/analytics/hourly-rates/"
AUTH_QUERIES = 4


@pytest.fixture
def admin_api():
    client = APIClient()
    client.force_login(UserFactory(username="boss", groups=["Admin"]))
    return client


def test_the_list_runs_a_constant_number_of_queries(viewer, django_assert_num_queries):
    for i in range(6):
        HourlyRate.objects.create(team=f"team-{i}", rate=Decimal(50 + i))
    api = APIClient()
    api.force_login(viewer)

    # Session, user, permissions, then the count and the page.
    with django_assert_num_queries(AUTH_QUERIES + 2):
        response = api.get(URL)

    assert response.status_code == 200
    assert [r["team"] for r in response.json()["results"]][:2] == ["team-0", "team-1"]
    assert response.json()["results"][0]["rate"] == 50.0


def test_bad_input_is_a_400_with_field_errors_and_writes_nothing(admin_api):
    HourlyRate.objects.create(team="payments", rate=Decimal("120"))

    cases = [
        ({"team": "payments", "rate": 90}, "team"),
        ({"team": "  ", "rate": 90}, "team"),
        ({"team": "ops", "rate": -1}, "rate"),
        ({"team": "ops", "rate": "90"}, "rate"),
        ({"team": "ops", "rate": 1e12}, "rate"),
        ({"team": "ops"}, "rate"),
        ({"team": "ops", "rate": 10, "currency": "EUR"}, "currency"),
    ]
    for body, field in cases:
        response = admin_api.post(URL, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())
    assert list(HourlyRate.objects.values_list("team", flat=True)) == ["payments"]


def test_a_viewer_reads_but_cannot_write(viewer):
    api = APIClient()
    api.force_login(viewer)

    assert api.post(URL, {"team": "ops", "rate": 10}, format="json").status_code == 403
    assert not HourlyRate.objects.exists()


def test_a_changed_rate_reprices_the_teams_incidents(admin_api, django_capture_on_commit_callbacks):
    incident = hand_computed_incident()  # 29,400 person-seconds at payments' 120/h: 980.00.
    incident_cost_refresh(incident_id=incident.pk)
    payments = HourlyRate.objects.get(team="payments")

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_api.patch(f"{URL}{payments.pk}/", {"rate": 60}, format="json")
    assert response.status_code == 200 and response.json()["rate"] == 60.0
    assert enqueued(callbacks, "analytics.") == ["analytics.tasks.incident_costs_reprice_team"]
    assert tasks.incident_costs_reprice_team("payments") == 1
    assert IncidentCost.objects.get(pk=incident.pk).amount == Decimal("490.00")

    # Without payments' rate, platform's (80/h, its second service's team) applies: 653.33.
    with django_capture_on_commit_callbacks(execute=False):
        assert admin_api.delete(f"{URL}{payments.pk}/").status_code == 204
    tasks.incident_costs_reprice_team("payments")
    cost = IncidentCost.objects.get(pk=incident.pk)
    assert (cost.team, cost.amount) == ("platform", Decimal("653.33"))


def test_create_through_the_api(admin_api):
    response = admin_api.post(URL, {"team": " data  platform ", "rate": 75.5}, format="json")

    assert response.status_code == 201
    assert (response.json()["team"], response.json()["rate"]) == ("data platform", 75.5)


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_admin_changelist_runs_a_constant_number_of_queries(staff, django_assert_max_num_queries):
    for i in range(8):
        HourlyRate.objects.create(team=f"team-{i}", rate=Decimal(10 * i))

    with django_assert_max_num_queries(8):
        assert staff.get(reverse("admin:analytics_hourlyrate_changelist")).status_code == 200


def test_the_admin_adds_through_the_service_and_refuses_a_team_twice(staff):
    url = reverse("admin:analytics_hourlyrate_add")

    assert staff.post(url, {"team": "payments", "rate": "120"}).status_code == 302
    again = staff.post(url, {"team": "payments", "rate": "90"})

    assert again.status_code == 200
    assert again.context["adminform"].form.errors["team"]
    assert list(HourlyRate.objects.values_list("team", "rate")) == [("payments", Decimal("120.00"))]


def test_an_incidents_cost_over_the_api(viewer, django_assert_num_queries):
    incident = hand_computed_incident()
    api = APIClient()
    api.force_login(viewer)

    # The incident, then the breakdown's 5 (analytics.cost.record).
    with django_assert_num_queries(AUTH_QUERIES + 6):
        response = api.get(f"/api/v1/analytics/incidents/{incident.pk}/cost/")

    assert response.status_code == 200
    body = response.json()
    assert [(r["name"], r["hours"]) for r in body["responders"]] == [
        ("alice", 1.5),
        ("carol", 1.5),
        ("bob", 1.17),
    ]
    assert (body["meeting_invitees"], body["meeting_hours"], body["hours"]) == (4, 4.0, 8.17)
    assert (body["team"], body["rate"], body["amount"], body["currency"]) == ("payments", 120.0, 980.0, "USD")
    assert api.get(f"/api/v1/analytics/incidents/{incident.pk + 99}/cost/").status_code == 404
    anonymous = APIClient().get(f"/api/v1/analytics/incidents/{incident.pk}/cost/")
    assert anonymous.status_code in (401, 403)
