"""An iCalendar (RFC 5545) invitation for a post-mortem review: one VEVENT whose UID stays the same
for a post-mortem, so a rescheduled review updates the attendees' calendar entry (higher SEQUENCE)
instead of adding a second one."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

REVIEW_LENGTH = timedelta(hours=1)


def _escape(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # A bare CR would end the content line.
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def review_invitation(
    *,
    uid: str,
    start: datetime,
    summary: str,
    description: str,
    organizer: str,
    attendees: list[str],
    url: str,
    sequence: int,
) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Mitigate//Post-mortem review//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(start + REVIEW_LENGTH)}",
        f"SUMMARY:{_escape(summary)}",
        f"DESCRIPTION:{_escape(description)}",
        f"URL:{url}",
        f"ORGANIZER:mailto:{organizer}",
        *[f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{a}" for a in attendees],
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
