from django.db import models


class ComponentStatus(models.TextChoices):
    """Statuspage's component statuses, the values its JSON API uses."""

    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    MAINTENANCE = "under_maintenance", "Under maintenance"


# How bad a status is, for "the worst of": a component in two incidents, a day in the history bar,
# the page's overall banner.
SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.MAINTENANCE: 1,
    ComponentStatus.DEGRADED: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}


def worst(statuses) -> str:
    """The worst of `statuses`, or operational when there are none."""
    return max(statuses, key=lambda status: SEVERITY[status], default=ComponentStatus.OPERATIONAL)


class Impact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"
    MAINTENANCE = "maintenance", "Maintenance"


class Kind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    MAINTENANCE = "maintenance", "Scheduled maintenance"


class PublicStatus(models.TextChoices):
    """An incident's public statuses, then a maintenance's (Statuspage's values for both)."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


INCIDENT_STATUSES = (
    PublicStatus.INVESTIGATING,
    PublicStatus.IDENTIFIED,
    PublicStatus.MONITORING,
    PublicStatus.RESOLVED,
)
MAINTENANCE_STATUSES = (
    PublicStatus.SCHEDULED,
    PublicStatus.IN_PROGRESS,
    PublicStatus.VERIFYING,
    PublicStatus.COMPLETED,
)
ENDED = (PublicStatus.RESOLVED, PublicStatus.COMPLETED)
# While one of these holds, the incident's component statuses count towards the components'.
ACTIVE = (
    PublicStatus.INVESTIGATING,
    PublicStatus.IDENTIFIED,
    PublicStatus.MONITORING,
    PublicStatus.IN_PROGRESS,
    PublicStatus.VERIFYING,
)


class SubscriberKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Awaiting confirmation"
    ACTIVE = "active", "Active"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
