"""The Analytics admin page: cards, server-drawn charts, tables, filters, errors, CSV exports and
who may see it, on the small June 2026 history of test_metrics."""

import csv
import io
from datetime import date
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from analytics.charts import svg as charts
from tests.analytics.test_metrics import history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
JUNE = "range=custom&start=2026-06-01&end=2026-06-30"
CHARTS = ("incidents", "mttr_trend", "service_types", "root_causes", "peak_times")


@pytest.fixture
def url():
    return reverse("analytics_dashboard:index")


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


def chart_svg(html: str, name: str) -> str:
    """The markup of one chart's section, from its heading to the end of its SVG."""
    start = html.index(f'id="chart-{name}"')
    return html[start : html.index("</svg>", start)]


def test_dashboard_shows_cards_charts_and_tables(viewer_client, url, history):  # noqa: F811
    response = viewer_client.get(f"{url}?{JUNE}")

    assert response.status_code == 200
    html = response.content.decode()
    for name in CHARTS:
        section = chart_svg(html, name)
        ElementTree.fromstring(section[section.index("<svg") :] + "</svg>")
    # Cards (see test_metrics: MTTD 6, MTTA 23.5, MTTR 55 minutes; 5 incidents over 30 days).
    cards = {card.title: card for card in response.context["cards"]}
    assert (cards["MTTD"].value, cards["MTTA"].value, cards["MTTR"].value) == ("6 min", "24 min", "55 min")
    assert cards["MTTR"].detail == "median 32 min · p90 114 min · n=4"
    assert (cards["Frequency"].value, cards["Auto-resolution"].value) == ("0.17/day", "25%")
    assert (cards["SLA response"].value, cards["SLA resolution"].value) == ("100%", "80%")
    # The previous period (2 May - 31 May) holds May's incident alone: MTTR 499 min, so 55 is better.
    assert cards["MTTR"].previous == "8.3 h" and cards["MTTR"].arrow == "▼" and cards["MTTR"].tone == "good"
    assert cards["Frequency"].arrow == "▲" and cards["Frequency"].tone == "bad"
    assert "55 min" in html and "▼ 89%" in html
    # Charts: one bar per priority and day, the heatmap's Friday 22:00 cell, the causes.
    assert "<title>05 Jun, P3: 1</title>" in chart_svg(html, "incidents")
    assert "<title>Fri 22:00: 1 incident</title>" in chart_svg(html, "peak_times")
    assert "<title>Deployment: 2 incidents</title>" in chart_svg(html, "root_causes")
    assert "<title>Jun 26: 55 min</title>" in chart_svg(html, "mttr_trend")
    # Tables: grouped by priority by default, follow-through, recommendations.
    assert [row["label"] for row in response.context["grouped"].display] == ["P2", "P3", "P1"]
    assert 'data-code="repeats_high"' in html and 'data-code="root_cause_dominant"' in html
    assert response.context["follow"].p1_p2_resolved == 3


def test_a_service_filter_changes_the_numbers(viewer_client, url, history):  # noqa: F811
    response = viewer_client.get(f"{url}?{JUNE}&service=db&group_by=service_type")

    cards = {card.title: card for card in response.context["cards"]}
    # c and d only: c resolved after 114 minutes, d never.
    assert cards["MTTR"].value == "114 min" and cards["Frequency"].detail == "2 incidents"
    assert [row["label"] for row in response.context["grouped"].display] == ["Database"]
    assert '<option value="db" selected>' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("range=custom&start=2026-06-30&end=2026-06-01", "end", "before the start"),
        ("range=custom&start=2020-01-01&end=2026-06-01", "end", "longer than three years"),
        ("group_by=colour", "group_by", "Unknown group-by"),
        ("range=custom&start=june", "start", "YYYY-MM-DD"),
        ("service=nope", "service", 'Unknown service "nope"'),
        ("export=pie", "export", 'Unknown chart "pie"'),
    ],
)
def test_bad_parameters_show_errors_not_a_server_error(viewer_client, url, query, field, message):
    response = viewer_client.get(f"{url}?{query}")

    assert response.status_code == 400
    assert any(message in text for text in response.context["errors"][field])
    html = response.content.decode()
    assert "errornote" in html and "analytics-chart" not in html


EXPORT_HEADERS = {
    "incidents": ["period", "priority", "incidents", "mttr_mean_seconds"],
    "mttr_trend": ["month", "incidents", "mttd_mean_seconds", "mtta_mean_seconds", "mttr_mean_seconds"],
    "service_types": [
        "service_type",
        "incidents",
        "mttr_mean_seconds",
        "mttr_median_seconds",
        "mttr_p90_seconds",
        "mtta_mean_seconds",
        "auto_resolution_rate",
        "cost_total",
    ],
    "root_causes": [
        "root_cause",
        "incidents",
        "mttr_mean_seconds",
        "mttr_median_seconds",
        "mttr_p90_seconds",
        "mtta_mean_seconds",
        "auto_resolution_rate",
        "cost_total",
    ],
    "peak_times": ["weekday", "hour", "incidents"],
    "cost": ["period", "team", "cost", "hours"],
    "grouped": [
        "priority",
        "incidents",
        "mttr_mean_seconds",
        "mttr_median_seconds",
        "mttr_p90_seconds",
        "mtta_mean_seconds",
        "auto_resolution_rate",
        "cost_total",
    ],
}


@pytest.mark.parametrize("chart", list(EXPORT_HEADERS))
def test_each_chart_exports_its_table_as_csv(viewer_client, url, history, chart):  # noqa: F811
    response = viewer_client.get(f"{url}?{JUNE}&export={chart}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="analytics-{chart}-2026-06-01-2026-06-30.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == EXPORT_HEADERS[chart]
    body = rows[1:]
    if chart == "incidents":
        # Every day of June for each priority seen, zero-filled.
        assert len(body) == 30 * 3
        assert ["2026-06-01", "P1", "1", "3480.0"] in body and ["2026-06-02", "P1", "0", ""] in body
    elif chart == "mttr_trend":
        # Months up to June, zero-filled (how many depends on monthly_trend's handling of an end that
        # falls on a month boundary, reported separately).
        assert body[-1] == ["2026-06-01", "5", "360.0", "1410.0", "3300.0"]
        assert body[-2] == ["2026-05-01", "1", "60.0", "60.0", "29940.0"] and body[0][1] == "0"
    elif chart == "service_types":
        assert {row[0]: row[1] for row in body} == {"web": "3", "database": "2"}
    elif chart == "root_causes":
        assert {row[0]: row[1] for row in body} == {"deployment": "2", "unclassified": "3"}
    elif chart == "peak_times":
        assert len(body) == 7 * 24 and ["Fri", "22", "1"] in body
        assert sum(int(row[2]) for row in body) == 5
    elif chart == "cost":
        # No costs computed in this history: each day with incidents, per team, at zero.
        assert body and {(row[2], row[3]) for row in body} == {("0.00", "0.0")}
    else:
        assert {row[0]: row[1] for row in body} == {"P1": "1", "P2": "2", "P3": "2"}


def test_viewer_finds_the_page_from_the_admin_index(viewer_client, url):
    response = viewer_client.get(reverse("admin:index"))
    assert f'href="{url}"' in response.content.decode()


def test_defaults_render_an_empty_range(viewer_client, url):
    response = viewer_client.get(url)
    assert response.status_code == 200
    assert response.context["params"].range == "30d"
    assert "No incidents in this range." in response.content.decode()


def test_anonymous_is_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_staff_without_view_incident_is_refused(client, url, user_factory):
    client.force_login(user_factory(username="nobody"))
    assert client.get(url).status_code == 403
    assert 'id="analytics-link"' not in client.get(reverse("admin:index")).content.decode()


def test_charts_are_well_formed_svg_with_escaped_labels():
    rows = [("<script>alert(1)</script>", 3), ("Web & DB", 1)]
    bars = charts.bar_chart(rows, title="By <team>")
    grid = [[0] * 24 for _ in range(7)]
    grid[6][23] = 2
    drawn = [
        bars,
        charts.heatmap(grid, title="Peak"),
        charts.line_chart([("Jan", 10.0), ("Feb", None), ("Mar", 30.0)], title="MTTR", unit="min"),
        charts.stacked_bars([date(2026, 6, 1)], ["P1", "<b>"], {(date(2026, 6, 1), "<b>"): 2}, title="t"),
        charts.bar_chart([], title="Nothing"),
    ]
    for svg in drawn:
        ElementTree.fromstring(svg)  # Well-formed XML, so escaped.
    assert "<script>" not in bars and "&lt;script&gt;alert(1)&lt;/script&gt;: 3 incidents" in bars
    assert 'aria-label="By &lt;team&gt;"' in bars
    assert "<title>Sun 23:00: 2 incidents</title>" in drawn[1]
    assert drawn[2].count("<circle") == 2 and "No incidents" in drawn[4]
    assert charts.relative_change(55, 499) == round(-444 / 499, 4)
    assert charts.relative_change(1, 0) is None and charts.relative_change(None, 1) is None
