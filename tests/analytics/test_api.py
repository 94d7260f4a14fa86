"""/api/v1/analytics/*: shapes and values on the small June 2026 history of test_metrics, filters,
field errors, pinned query counts and permissions."""

from datetime import date, timedelta

import pytest
from rest_framework.test import APIClient

from analytics.rollups.read import STATE_QUERIES
from analytics.selectors import queries_per_clock
from tests.analytics.test_metrics import history  # noqa: F401 (a fixture)
from tests.incidents.api_support import token_client

pytestmark = pytest.mark.django_db
JUNE = {"range": "custom", "start": "2026-06-01", "end": "2026-06-30"}
MIN = 60.0
# Session, user, and the user's own and group permissions, on top of the selectors' queries.
AUTH_QUERIES = 4


@pytest.fixture
def api(viewer):
    client = APIClient()
    client.force_login(viewer)
    return client


def test_summary_has_current_previous_and_change(api, history, django_assert_num_queries):  # noqa: F811
    # Two summaries of 9 queries each: June, and the 30 days before it.
    # Two periods of 3 queries plus the clocks (see analytics.selectors.summary).
    with django_assert_num_queries(2 * (3 + 3 * queries_per_clock() + STATE_QUERIES) + AUTH_QUERIES):
        response = api.get("/api/v1/analytics/summary/", JUNE)

    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"start": "2026-06-01T00:00:00Z", "end": "2026-07-01T00:00:00Z"}
    assert body["previous_period"] == {"start": "2026-05-02T00:00:00Z", "end": "2026-06-01T00:00:00Z"}
    current, previous = body["current"], body["previous"]
    assert (current["incidents"], current["by_priority"]) == (5, {"P1": 1, "P2": 2, "P3": 2})
    assert current["mttr_seconds"] == {"count": 4, "mean": 55 * MIN, "median": 32 * MIN, "p90": 114 * MIN}
    assert current["mtta_seconds"] == {"count": 4, "mean": 23.5 * MIN, "median": 12 * MIN, "p90": 50 * MIN}
    assert current["mttd_seconds"]["mean"] == 6 * MIN
    assert (current["auto_resolution_rate"], current["repeat_rate"], current["sla_resolution_rate"]) == (
        0.25,
        0.6,
        0.8,
    )
    assert previous["incidents"] == 1 and previous["mttr_seconds"]["mean"] == 499 * MIN
    change = body["change"]
    assert change["incidents"] == 4.0
    assert change["mttr_mean"] == round((55 - 499) / 499, 4)
    assert change["auto_resolution_rate"] is None  # May had no automated resolution: no base.


@pytest.mark.parametrize(
    ("narrowing", "incidents"),
    [
        ({"service": "db"}, 2),
        ({"service": ["db", "web"]}, 5),
        ({"service_type": "web"}, 3),
        ({"team": "platform"}, 2),
        ({"priority": "P3"}, 2),
        ({"root_cause": "unclassified"}, 3),
        ({"include_drills": "true"}, 6),
    ],
)
def test_summary_filters(api, history, narrowing, incidents):  # noqa: F811
    response = api.get("/api/v1/analytics/summary/", {**JUNE, **narrowing})
    assert response.status_code == 200
    assert response.json()["current"]["incidents"] == incidents


def test_series_by_week_and_priority_is_zero_filled(api, history, django_assert_num_queries):  # noqa: F811
    with django_assert_num_queries(1 + STATE_QUERIES + AUTH_QUERIES):
        response = api.get("/api/v1/analytics/series/", {**JUNE, "bucket": "week", "group_by": "priority"})

    assert response.status_code == 200
    body = response.json()
    mondays = [(date(2026, 6, 1) + timedelta(weeks=i)).isoformat() for i in range(5)]
    assert (body["bucket"], body["group_by"], body["periods"]) == ("week", "priority", mondays)
    series = {s["group"]: s for s in body["series"]}
    assert {g: s["incidents"] for g, s in series.items()} == {"P1": 1, "P2": 2, "P3": 2}
    assert [p["period"] for p in series["P1"]["points"]] == mondays
    assert series["P1"]["points"][0] == {
        "period": "2026-06-01",
        "incidents": 1,
        "mttr_mean_seconds": 58 * MIN,
        "cost": 0.0,
    }
    assert series["P1"]["points"][1] == {
        "period": "2026-06-08",
        "incidents": 0,
        "mttr_mean_seconds": None,
        "cost": 0.0,
    }


def test_series_defaults_to_days_without_groups(api, history):  # noqa: F811
    body = api.get("/api/v1/analytics/series/", JUNE).json()
    assert (body["bucket"], body["group_by"], len(body["periods"])) == ("day", None, 30)
    (only,) = body["series"]
    assert only["group"] is None and only["incidents"] == 5 and len(only["points"]) == 30
    assert [p["incidents"] for p in only["points"][:6]] == [1, 1, 1, 1, 1, 0]


def test_series_by_month_groups_are_dates(api, history):  # noqa: F811
    body = api.get("/api/v1/analytics/series/", {**JUNE, "bucket": "month", "group_by": "month"}).json()
    assert [(s["group"], s["incidents"]) for s in body["series"]] == [("2026-06-01", 5)]


def test_peak_times(api, history):  # noqa: F811
    response = api.get("/api/v1/analytics/peak-times/", JUNE)
    body = response.json()
    assert response.status_code == 200
    assert body["days"][0] == "Monday" and body["timezone"] == "UTC" and body["incidents"] == 5
    assert len(body["grid"]) == 7 and all(len(row) == 24 for row in body["grid"])
    assert body["grid"][4][22] == 1 and body["grid"][0][10] == 1


def test_recommendations(api, history):  # noqa: F811
    response = api.get("/api/v1/analytics/recommendations/", JUNE)
    advice = {r["code"]: r for r in response.json()["recommendations"]}
    assert set(advice) == {"repeats_high", "root_cause_dominant"}
    assert advice["root_cause_dominant"]["details"] == {"root_cause": "deployment", "share": 1.0}
    assert "permanent fixes" in advice["repeats_high"]["message"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"range": "custom", "start": "2026-06-30", "end": "2026-06-01"}, "end"),
        ({"range": "custom", "start": "2022-01-01", "end": "2026-06-01"}, "end"),
        ({"range": "custom", "end": "2026-06-01"}, "start"),
        ({"range": "custom", "start": "yesterday", "end": "2026-06-01"}, "start"),
        ({"range": "7d", "start": "2026-06-01"}, "range"),
        ({"range": "1y"}, "range"),
        ({"group_by": "colour"}, "group_by"),
        ({"bucket": "hour"}, "bucket"),
        ({"service_type": "mainframe"}, "service_type"),
        ({"root_cause": "gremlins"}, "root_cause"),
        ({"priority": "P9"}, "priority"),
        ({"service": "nope"}, "service"),
        ({"include_drills": "maybe"}, "include_drills"),
        ({"servise": "web"}, "servise"),
    ],
)
def test_bad_parameters_are_field_errors(api, query, field):
    for endpoint in ("summary", "series", "peak-times", "recommendations"):
        response = api.get(f"/api/v1/analytics/{endpoint}/", query)
        assert response.status_code == 400, endpoint
        body = response.json()
        assert body["code"] == "invalid" and field in body, body


def test_anonymous_gets_401(client):
    for endpoint in ("summary", "series", "peak-times", "recommendations"):
        assert client.get(f"/api/v1/analytics/{endpoint}/").status_code == 401


def test_user_without_view_incident_gets_403(user_factory):
    client = APIClient()
    client.force_login(user_factory(username="nobody"))
    response = client.get("/api/v1/analytics/summary/")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_token_authentication_works(viewer):
    assert token_client(viewer).get("/api/v1/analytics/summary/", {"range": "7d"}).status_code == 200
