"""iCalendar (RFC 5545) output, written by hand: the feeds need a handful of properties, and the rules
that matter are few: CRLF line ends, lines folded at 75 octets (never inside a UTF-8 character), text
values escaped, times in UTC."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

PRODID = "-//Mitigate//On call//EN"
LINE_OCTETS = 75


@dataclass(frozen=True)
class Event:
    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str = ""


# TEXT allows no control characters but tab (RFC 5545 3.3.11); line breaks are escaped, not dropped.
_CONTROLS = {code: None for code in [*range(0x00, 0x09), *range(0x0B, 0x0D), *range(0x0E, 0x20), 0x7F]}


def plain_text(value: str) -> str:
    """What a TEXT value can carry of `value`: line breaks as newlines, other control characters
    removed."""
    return value.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS)


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = plain_text(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded (RFC 5545 3.1): at most 75 octets per physical line, each
    continuation starting with a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= LINE_OCTETS:
        return line
    pieces: list[str] = []
    limit = LINE_OCTETS
    while encoded:
        cut = min(limit, len(encoded))
        # Back up to a character boundary: UTF-8 continuation bytes are 0b10xxxxxx.
        while cut < len(encoded) and (encoded[cut] & 0xC0) == 0x80:
            cut -= 1
        pieces.append(encoded[:cut].decode("utf-8"))
        encoded = encoded[cut:]
        limit = LINE_OCTETS - 1
    return "\r\n ".join(pieces)


def utc_stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(*, name: str, events: Iterable[Event], stamp: dt.datetime) -> str:
    """A VCALENDAR of `events`, CRLF-terminated."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(event.uid)}",
            f"DTSTAMP:{utc_stamp(stamp)}",
            f"DTSTART:{utc_stamp(event.start)}",
            f"DTEND:{utc_stamp(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
