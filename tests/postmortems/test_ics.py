"""postmortems/ics.py: the review invitation as RFC 5545 text (escaping, folding, CRLF)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from postmortems.ics import _escape, _fold, review_invitation

START = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


def unfold(text: str) -> list[str]:
    """RFC 5545 3.1: a CRLF followed by one space or tab continues the previous line."""
    assert text.endswith("\r\n")
    return text[:-2].replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def invitation(**overrides) -> str:
    kwargs = {
        "uid": "postmortem-review-7@mitigate",
        "start": START,
        "summary": "Post-mortem review: INC-2026-0001 Checkout returns 502",
        "description": "Blameless review. Read the draft first: https://mitigate.example/pm/7/",
        "organizer": "mitigate@example.com",
        "attendees": ["alice@example.com", "bob@example.com"],
        "url": "https://mitigate.example/admin/postmortems/postmortem/7/change/",
        "sequence": 3,
    }
    return review_invitation(**{**kwargs, **overrides})


def props(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unfold(text):
        name, _, value = line.partition(":")
        found.setdefault(name.split(";", 1)[0], []).append(value)
    return found


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain text", "plain text"),
        ("a, b", "a\\, b"),
        ("a; b", "a\\; b"),
        ("C:\\temp", "C:\\\\temp"),
        ("line one\nline two", "line one\\nline two"),
        ("a\\, b", "a\\\\\\, b"),  # The backslash is escaped first, then the comma.
        ("a\\nb", "a\\\\nb"),  # A literal backslash-n is not a newline.
        ("line one\r\nline two", "line one\\nline two"),  # Windows line ends: one newline, no bare CR.
    ],
)
def test_escape(raw, escaped):
    assert _escape(raw) == escaped


def test_summary_and_description_are_escaped_in_the_calendar():
    text = invitation(summary="DB, cache; and \\ more", description="First line\nSecond, line")
    found = props(text)
    assert found["SUMMARY"] == ["DB\\, cache\\; and \\\\ more"]
    assert found["DESCRIPTION"] == ["First line\\nSecond\\, line"]


def test_short_lines_are_not_folded():
    assert _fold("SUMMARY:short") == "SUMMARY:short"
    exactly = "X" * 75
    assert _fold(exactly) == exactly


def test_long_ascii_line_folds_at_75_octets():
    line = "DESCRIPTION:" + "a" * 200
    folded = _fold(line)
    physical = folded.split("\r\n")
    assert len(physical) > 1
    assert all(len(part.encode()) <= 75 for part in physical)
    assert len(physical[0].encode()) == 75
    assert all(part.startswith(" ") for part in physical[1:])
    assert folded.replace("\r\n ", "") == line


@pytest.mark.parametrize("char", ["é", "€", "日", "📌"])
def test_folding_never_splits_a_multibyte_character(char):
    line = "SUMMARY:" + char * 120
    folded = _fold(line)
    for part in folded.split("\r\n"):
        data = part.encode("utf-8")
        assert len(data) <= 75
        data.decode("utf-8")  # Each physical line is valid UTF-8 on its own.
    assert folded.replace("\r\n ", "") == line


def test_folding_mixed_width_text_round_trips():
    line = "DESCRIPTION:" + "Revue après l'incident 🔥 — cause racine, 日本語; " * 6
    folded = _fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_every_line_ends_with_crlf_and_no_bare_lf_or_cr():
    text = invitation(
        description="Multi\nline\ndescription " + "é" * 100,
        attendees=[f"person{n}.with.a.rather.long.name@example.com" for n in range(5)],
    )
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "\r" not in text.replace("\r\n", "")
    for line in text.split("\r\n")[:-1]:
        assert len(line.encode()) <= 75


def test_invitation_structure():
    text = invitation()
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert lines.index("BEGIN:VEVENT") < lines.index("END:VEVENT")
    found = props(text)
    assert found["VERSION"] == ["2.0"]
    assert found["METHOD"] == ["REQUEST"]
    assert found["PRODID"][0]
    assert found["UID"] == ["postmortem-review-7@mitigate"]
    assert found["SEQUENCE"] == ["3"]
    assert found["DTSTART"] == ["20261103T150000Z"]
    assert found["DTEND"] == ["20261103T160000Z"]
    assert found["ORGANIZER"] == ["mailto:mitigate@example.com"]
    assert found["ATTENDEE"] == ["mailto:alice@example.com", "mailto:bob@example.com"]
    assert found["URL"] == ["https://mitigate.example/admin/postmortems/postmortem/7/change/"]
    attendee_lines = [line for line in lines if line.startswith("ATTENDEE")]
    assert all("ROLE=REQ-PARTICIPANT" in line and "RSVP=TRUE" in line for line in attendee_lines)
    dtstamp = found["DTSTAMP"][0]
    assert len(dtstamp) == 16 and dtstamp.endswith("Z")


def test_times_are_written_in_utc_whatever_the_offset():
    paris = timezone(timedelta(hours=1))
    text = invitation(start=datetime(2026, 11, 3, 16, 0, tzinfo=paris))
    found = props(text)
    assert found["DTSTART"] == ["20261103T150000Z"]
    assert found["DTEND"] == ["20261103T160000Z"]
