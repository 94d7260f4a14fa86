from django.db import models


class RotationUnit(models.TextChoices):
    HOURS = "hours", "Hours"
    DAYS = "days", "Days"
    WEEKS = "weeks", "Weeks"


class PageMode(models.TextChoices):
    """What an incident's priority earns under its policy (EscalationPolicy thresholds)."""

    PAGE = "page", "Page (escalate until acknowledged)"
    NOTIFY = "notify", "Notify (first step once, no escalation)"


class PageStatus(models.TextChoices):
    ESCALATING = "escalating", "Escalating"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"
    EXHAUSTED = "exhausted", "Exhausted (nobody acknowledged)"
    NOTIFIED = "notified", "Notified"


ENDED_PAGE_STATUSES = (
    PageStatus.ACKNOWLEDGED,
    PageStatus.RESOLVED,
    PageStatus.DISMISSED,
    PageStatus.EXHAUSTED,
    PageStatus.NOTIFIED,
)

PRIORITY_CODES = [("P1", "P1"), ("P2", "P2"), ("P3", "P3"), ("P4", "P4"), ("P5", "P5")]
