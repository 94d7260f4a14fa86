"""An incident's timeline as a file: CSV for spreadsheets, Markdown for documents and chat. The admin
and the API both serve what `timeline_export` builds, so the two downloads are the same file.

The text in a timeline comes from alerts and people, so each format is defended: a CSV cell that a
spreadsheet would run as a formula is prefixed with a quote, and Markdown cells are escaped so they
cannot end the table or inject markup."""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from incidents.models import Incident, TimelineEvent
from incidents.selectors import incident_timeline

FORMATS = ("csv", "md")
COLUMNS = ("Time", "Kind", "Who", "Source", "Message", "Pinned")
# What spreadsheets read as the start of a formula (OWASP "CSV injection"): = + - @, and the tab and
# carriage return some of them strip before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The punctuation that starts inline markup in a table cell (emphasis, code, links, images, HTML,
# entities, strikethrough), the pipe that ends the cell and the backslash itself. Block markup
# (#, -, 1.) cannot start inside a cell, so it is left as written.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~&])")


@dataclass(frozen=True)
class TimelineExport:
    content: str
    content_type: str
    filename: str


def csv_cell(value: object) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def markdown_cell(value: object) -> str:
    """One line, every Markdown special escaped: the text shows as written and stays in its cell."""
    text = " ".join(str(value).split())
    return MARKDOWN_SPECIAL.sub(r"\\\1", text) or "-"


def _time(event: TimelineEvent) -> str:
    return timezone.localtime(event.occurred_at).isoformat(timespec="seconds")


def _rows(events: Iterable[TimelineEvent]) -> list[tuple[str, ...]]:
    return [
        (
            _time(event),
            event.get_kind_display(),
            event.actor_name,
            event.get_source_display(),
            event.message,
            "pinned" if event.pinned else "",
        )
        for event in events
    ]


def timeline_csv(events: Iterable[TimelineEvent]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows([csv_cell(v) for v in row] for row in _rows(events))
    return buffer.getvalue()


def timeline_markdown(incident: Incident, events: Iterable[TimelineEvent]) -> str:
    lines = [
        f"# Timeline of {markdown_cell(incident.reference)}: {markdown_cell(incident.title)}",
        "",
        "Pinned events (key moments) are marked with a star.",
        "",
        "| Time | Kind | Who | Source | Message |",
        "| --- | --- | --- | --- | --- |",
    ]
    for time, kind, who, source, message, pinned in _rows(events):
        star = "★ " if pinned else ""
        cells = (time, kind, who, source, message)
        escaped = [markdown_cell(c) for c in cells]
        escaped[-1] = star + escaped[-1]
        lines.append("| " + " | ".join(escaped) + " |")
    return "\n".join(lines) + "\n"


def timeline_export(*, incident: Incident, fmt: str) -> TimelineExport:
    """The whole timeline, oldest first, as `fmt` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown timeline export format {fmt!r}.")
    events = incident_timeline(incident=incident).order_by("occurred_at", "id")
    filename = f"{incident.reference}-timeline.{fmt}"
    if fmt == "csv":
        return TimelineExport(timeline_csv(events), "text/csv; charset=utf-8", filename)
    return TimelineExport(timeline_markdown(incident, events), "text/markdown; charset=utf-8", filename)
