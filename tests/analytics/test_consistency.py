"""One definition per metric: on the same filters, the summary, the recommendations, the action
table, the API and the report preview give the same repeat rate, action success rate, root-cause
share and cost (the incident page's too), and the dashboard's range selector shows the range its
numbers are for.

The history (test_metrics' June 2026) is built so that other windows give other numbers: the year
up to the end of June also holds May's incident and most of an action's runs."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from actions.choices import RunStatus
from analytics.selectors import action_stats, recommendations, summary
from analytics.services.cost import incident_cost_refresh
from analytics.services.reports import report_preview, report_save
from common.actor import Actor, Source
from incidents.choices import EventKind
from tests.actions.factories import ActionFactory, ActionRunFactory
from tests.analytics.cost_support import at, event, hand_computed_incident
from tests.analytics.test_metrics import RANGE, history  # noqa: F401 (a fixture)
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db
JUNE = {"range": "custom", "start": "2026-06-01", "end": "2026-06-30"}
MAY = datetime(2026, 5, 10, 10, 0, tzinfo=UTC)


def runs(action, incident, *, succeeded: int, failed: int) -> None:
    start = incident.detected_at
    for status in [RunStatus.SUCCEEDED] * succeeded + [RunStatus.FAILED] * failed:
        ActionRunFactory(
            action=action,
            incident=incident,
            status=status,
            started_at=start,
            finished_at=start + timedelta(1),
        )


@pytest.fixture
def flaky(history):  # noqa: F811
    """An action that failed 3 of its 5 runs in June, and ran 35 times, mostly well, in May: 40% of 5
    in the range, 70% of 40 over the year."""
    action = ActionFactory(name="Flaky restart")
    runs(action, history["a"], succeeded=2, failed=3)
    may = IncidentFactory(detected_at=MAY, started_at=MAY)
    runs(action, may, succeeded=26, failed=9)
    # One failed run: 0%, but too few runs to call the action unreliable, here or anywhere.
    runs(ActionFactory(name="Tried once"), history["c"], succeeded=0, failed=1)
    return action


def test_summary_recommendations_table_api_and_report_agree(flaky, viewer, client):
    current = summary(RANGE)
    advice = {r.code: r for r in recommendations(RANGE)}
    table = {stats.action: stats for stats in action_stats(RANGE)}

    # Repeat rate: b and e repeat, c was reopened: 3 of June's 5 (May's incident is not in range).
    assert current.repeat_rate == 0.6
    assert advice["repeats_high"].details["repeat_rate"] == current.repeat_rate
    assert "60% of incidents repeat" in advice["repeats_high"].message
    # Action success: what the table says for the range, not the year's 28 of 40.
    assert (table["Flaky restart"].runs, table["Flaky restart"].success_rate) == (5, 0.4)
    assert advice["action_unreliable"].details == {"action": flaky.pk, "success_rate": 0.4, "runs": 5}
    assert "succeeded in 40% of 5 runs" in advice["action_unreliable"].message

    # The API, on the same filters.
    api = APIClient()
    api.force_login(viewer)
    api_summary = api.get("/api/v1/analytics/summary/", JUNE).json()
    api_advice = {
        r["code"]: r for r in api.get("/api/v1/analytics/recommendations/", JUNE).json()["recommendations"]
    }
    assert api_summary["current"]["repeat_rate"] == current.repeat_rate
    assert api_advice["repeats_high"]["details"]["repeat_rate"] == current.repeat_rate
    assert api_advice["action_unreliable"]["details"]["success_rate"] == 0.4

    # The dashboard: its repeat-rate card, and the table marks exactly the actions the
    # recommendations name.
    client.force_login(viewer)
    page = client.get(reverse("analytics_dashboard:index"), JUNE)
    cards = {card.title: card for card in page.context["cards"]}
    assert cards["Repeat rate"].value == "60%"
    assert [r.message for r in page.context["recommendations"]] == [r.message for r in advice.values()]
    rows = {row["name"]: row for row in page.context["actions"]}
    assert (rows["Flaky restart"]["runs"], rows["Flaky restart"]["success_rate"]) == (5, "40%")
    marked = {name for name, row in rows.items() if row["unreliable"]}
    named = {r.details["action"] for r in page.context["recommendations"] if r.code == "action_unreliable"}
    assert marked == {"Flaky restart"} and named == {flaky.pk}

    # The report preview for June: one repeat rate in its cards and its recommendations.
    report = report_save(
        by=Actor.system(Source.TASK),
        data={
            "name": "June",
            "type": "incident_summary",
            "parameters": {
                "range": "previous_month",
                "metrics": ["summary", "root_causes", "automation", "recommendations"],
            },
            "extra_recipients": ["cto@example.com"],
        },
        recipient_users=[],
        schedule="0 7 1 * *",
    )
    text = report_preview(report=report, now=datetime(2026, 7, 1, 12, tzinfo=UTC)).text
    assert "- Repeat rate: 60% (" in text
    assert "- 60% of incidents repeat an earlier one" in text
    assert "- Flaky restart: 5 runs, 40% success" in text
    assert "Flaky restart succeeded in 40% of 5 runs" in text
    # Root causes: a and e are deployments, the other three unclassified; one share, of the
    # classified incidents, in the table and the advice.
    assert advice["root_cause_dominant"].details == {"root_cause": "deployment", "share": 1.0}
    assert "- Deployment: 2 (100% of classified), MTTR" in text
    assert "- Unclassified: 3, MTTR" in text
    assert "Deployment causes 100% of classified incidents" in text


def test_the_range_selector_shows_the_range_the_numbers_are_for(viewer, client):
    client.force_login(viewer)
    url = reverse("analytics_dashboard:index")

    page = client.get(url)
    selected = [o["value"] for o in page.context["options"]["ranges"] if o["selected"]]
    assert page.context["params"].range == "30d" and selected == ["30d"]
    assert '<option value="30d" selected>Last 30 days</option>' in page.content.decode()

    # Dates without a range mean a custom range, in the numbers and in the form.
    page = client.get(url, {"start": "2026-06-01", "end": "2026-06-30"})
    selected = [o["value"] for o in page.context["options"]["ranges"] if o["selected"]]
    assert page.context["params"].range == "custom" and selected == ["custom"]

    page = client.get(url, {"range": "90d"})
    selected = [o["value"] for o in page.context["options"]["ranges"] if o["selected"]]
    assert page.context["params"].range == "90d" and selected == ["90d"]


def test_the_incident_page_dashboard_api_and_report_give_one_cost(admin_user, viewer, client):
    """The hand-computed incident (980.00 at the payments rate; tests/analytics/cost_support.py)
    and one more in June at the default rate (100/h): a responder's note 2 h before resolution,
    200.00. June's cost impact is 1,180.00 everywhere."""
    incident = hand_computed_incident()
    other = IncidentFactory(detected_at=at(60 * 24 * 5), status="resolved", resolved_at=at(60 * 24 * 5 + 120))
    event(other, 60 * 24 * 5, EventKind.NOTE, UserFactory(username="erin"))
    event(other, 60 * 24 * 5 + 120, EventKind.RESOLVED, None)
    for each in (incident, other):
        incident_cost_refresh(incident_id=each.pk)

    client.force_login(admin_user)
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert '<strong id="incident-cost-breakdown-total">980.00 USD</strong>' in page

    client.force_login(viewer)
    dashboard = client.get(reverse("analytics_dashboard:index"), JUNE)
    cards = {card.title: card for card in dashboard.context["cards"]}
    assert cards["Cost impact"].value == "1,180.00 USD"
    grouped = {row["label"]: row["cost"] for row in dashboard.context["grouped"].display}
    assert grouped == {"P3": "1,180.00 USD"}

    api = APIClient()
    api.force_login(viewer)
    body = api.get("/api/v1/analytics/summary/", JUNE).json()
    assert body["current"]["cost"]["total"] == 1180.0
    assert body["current"]["cost"]["mean"] == 590.0
    by_team = api.get("/api/v1/analytics/series/", {**JUNE, "group_by": "team"}).json()["series"]
    assert {s["group"]: s["cost"] for s in by_team} == {"payments": 980.0, "platform": 980.0, "none": 200.0}

    report = report_save(
        by=Actor.system(Source.TASK),
        data={
            "name": "June cost",
            "type": "incident_summary",
            "parameters": {"range": "previous_month", "metrics": ["cost"], "group_by": "team"},
            "extra_recipients": ["cto@example.com"],
        },
        recipient_users=[],
        schedule="0 7 1 * *",
    )
    text = report_preview(report=report, now=datetime(2026, 7, 1, 12, tzinfo=UTC)).text
    assert "- 1,180.00 USD for 10.2 person-hours over 2 incidents (mean 590.00 USD)" in text
    assert "- payments: 980.00 USD, 8.2 person-hours, 1 incidents" in text
