"""Timeline exports: CSV read back with the csv module (formula cells defused), Markdown whose
table survives hostile text, and the admin and API downloads serving the same file."""

import csv
import io
import re

import pytest
from django.urls import reverse

from incidents.services import incident_note_add, timeline_event_pin
from incidents.timeline_export import csv_cell, markdown_cell, timeline_export
from tests.hostile import HOSTILE
from tests.incidents.api_support import client_for, incidents_url

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
XSS = "<script>alert(1)</script> | broken | cell"


def admin_export_url(incident, fmt: str) -> str:
    return reverse("admin:incidents_incident_timeline_export", args=[incident.pk, fmt])


def parsed(content: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content)))


@pytest.fixture
def incident(open_incident, actor):
    incident = open_incident(title="Checkout | down = bad")
    note = incident_note_add(incident=incident, by=actor, message="Rolled back, errors stopped")
    timeline_event_pin(event=note, by=actor, pinned=True)
    return incident


# --- The module --------------------------------------------------------------------------------------


def test_csv_reads_back_with_a_header_and_pinned_marked(incident):
    export = timeline_export(incident=incident, fmt="csv")

    rows = parsed(export.content)
    assert rows[0] == ["Time", "Kind", "Who", "Source", "Message", "Pinned"]
    assert [row[1] for row in rows[1:]] == ["Created", "Note"]
    assert rows[2][2:] == ["responder", "API", "Rolled back, errors stopped", "pinned"]
    assert rows[1][5] == ""
    assert (export.content_type, export.filename) == (
        "text/csv; charset=utf-8",
        f"{incident.reference}-timeline.csv",
    )


@pytest.mark.parametrize("value", FORMULAS)
def test_csv_cells_that_start_a_formula_are_prefixed_with_a_quote(incident, actor, value):
    incident_note_add(incident=incident, by=actor, message=f"{value} tail")

    rows = parsed(timeline_export(incident=incident, fmt="csv").content)

    # A note is stripped when written; what is left must come back quoted, never as a formula.
    message = rows[-1][4]
    assert message.startswith("'") and message[1:] == f"{value} tail".strip()
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_cell_leaves_plain_text_alone():
    assert [csv_cell(v) for v in ("Rolled back", "a=b", "", 3)] == ["Rolled back", "a=b", "", "3"]


def test_csv_keeps_hostile_text_whole(incident, actor):
    values = [v for v in HOSTILE.values() if v.strip()]
    for value in values:
        incident_note_add(incident=incident, by=actor, message=value)

    rows = parsed(timeline_export(incident=incident, fmt="csv").content)

    assert all(len(row) == 6 for row in rows)
    assert [row[4] for row in rows[3:]] == [csv_cell(v.strip()) for v in values]


def _table(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def _cells(line: str) -> list[str]:
    # Split on pipes that are not escaped: an escaped one is text inside its cell.
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_markdown_table_with_pinned_marked(incident):
    export = timeline_export(incident=incident, fmt="md")

    table = _table(export.content)
    assert table[0] == "| Time | Kind | Who | Source | Message |"
    assert len(table) == 2 + 2
    assert _cells(table[3])[4] == "★ Rolled back, errors stopped"
    assert not _cells(table[2])[4].startswith("★")
    assert export.content.startswith(f"# Timeline of {incident.reference}: Checkout \\| down = bad")
    assert (export.content_type, export.filename) == (
        "text/markdown; charset=utf-8",
        f"{incident.reference}-timeline.md",
    )


def test_markdown_table_stays_intact_with_hostile_text(incident, actor):
    values = [*HOSTILE.values(), XSS, "line one\nline two | three", "**bold** _it_ [link](http://x) ![i](y)"]
    written = [v for v in values if v.strip()]
    for value in written:
        incident_note_add(incident=incident, by=actor, message=value)

    markdown = timeline_export(incident=incident, fmt="md").content

    table = _table(markdown)
    # One row per event, each with exactly five cells: nothing ended a row or a cell early.
    assert len(table) == 2 + 2 + len(written)
    assert all(len(_cells(line)) == 5 for line in table)
    assert all(line.endswith("|") for line in table)
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert "**bold**" not in markdown and "\\*\\*bold\\*\\*" in markdown
    assert "[link](http://x)" not in markdown


def test_markdown_cell_escapes_markup_and_joins_lines():
    assert markdown_cell("a | b\nc `d` <e>") == "a \\| b c \\`d\\` \\<e\\>"
    assert markdown_cell("   ") == "-"


def test_unknown_format_is_refused(incident):
    with pytest.raises(ValueError):
        timeline_export(incident=incident, fmt="xlsx")


# --- Admin -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "content_type"), [("csv", "text/csv"), ("md", "text/markdown")])
def test_admin_download(client, viewer, incident, fmt, content_type):
    client.force_login(viewer)

    response = client.get(admin_export_url(incident, fmt))

    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type}; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{incident.reference}-timeline.{fmt}"'
    assert response.content.decode() == timeline_export(incident=incident, fmt=fmt).content


def test_admin_download_of_another_format_or_incident_is_404(client, viewer, incident):
    client.force_login(viewer)
    assert client.get(admin_export_url(incident, "xlsx")).status_code == 404
    assert (
        client.get(reverse("admin:incidents_incident_timeline_export", args=[999999, "csv"])).status_code
        == 404
    )


def test_admin_download_needs_a_staff_login(client, incident, user_factory):
    assert client.get(admin_export_url(incident, "csv")).status_code == 302  # To the login page.
    client.force_login(user_factory(username="outsider", is_staff=True))
    assert client.get(admin_export_url(incident, "csv")).status_code == 403


def test_incident_page_offers_the_downloads(client, responder, incident):
    client.force_login(responder)
    html = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert admin_export_url(incident, "csv") in html and admin_export_url(incident, "md") in html


def test_timeline_tools_partial_links_both_downloads(responder, incident):
    from django.contrib.auth.context_processors import PermWrapper
    from django.template.loader import render_to_string

    html = render_to_string(
        "admin/incidents/incident/_timeline_tools.html",
        {"incident": incident, "perms": PermWrapper(responder)},
    )
    assert admin_export_url(incident, "csv") in html and admin_export_url(incident, "md") in html


# --- API ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "content_type"), [("csv", "text/csv"), ("md", "text/markdown")])
def test_api_download(viewer, incident, fmt, content_type):
    response = client_for(viewer).get(incidents_url(incident, "timeline/export"), {"format": fmt})

    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type}; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{incident.reference}-timeline.{fmt}"'
    assert response.content.decode() == timeline_export(incident=incident, fmt=fmt).content


def test_api_download_defaults_to_csv(viewer, incident):
    response = client_for(viewer).get(incidents_url(incident, "timeline/export"))
    assert response.status_code == 200
    assert parsed(response.content.decode())[0][0] == "Time"


def test_api_download_in_an_unknown_format_is_400(viewer, incident):
    response = client_for(viewer).get(incidents_url(incident, "timeline/export"), {"format": "xlsx"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "format" in response.json()


def test_api_download_of_an_unknown_incident_is_a_json_404(viewer):
    response = client_for(viewer).get("/api/v1/incidents/999999/timeline/export/", {"format": "md"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_download_needs_login(incident):
    response = client_for(None).get(incidents_url(incident, "timeline/export"), {"format": "csv"})
    assert response.status_code in (401, 403)
