from django.db import models


class ServiceType(models.TextChoices):
    WEB = "web", "Web"
    DATABASE = "database", "Database"
    AUTH = "auth", "Authentication"
    STORAGE = "storage", "Storage"
    NETWORK = "network", "Network"
    OTHER = "other", "Other"


class ServiceTier(models.IntegerChoices):
    TIER_1 = 1, "Tier 1 (business critical)"
    TIER_2 = 2, "Tier 2 (important)"
    TIER_3 = 3, "Tier 3 (internal)"


class IncidentStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (IncidentStatus.NEW, IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD)


class Phase(models.TextChoices):
    """Where an open incident stands: triage phases while it is new, work phases once acknowledged."""

    TRIAGE = "triage", "Triage"
    PRIORITIZED = "prioritized", "Prioritized"
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    FIXING = "fixing", "Fixing"
    MONITORING = "monitoring", "Monitoring"


TRIAGE_PHASES = (Phase.TRIAGE, Phase.PRIORITIZED)
WORK_PHASES = (Phase.INVESTIGATING, Phase.IDENTIFIED, Phase.FIXING, Phase.MONITORING)
# The phases each open status allows; resolved and closed incidents claim none.
PHASES_BY_STATUS = {
    IncidentStatus.NEW: TRIAGE_PHASES,
    IncidentStatus.IN_PROGRESS: WORK_PHASES,
    IncidentStatus.ON_HOLD: WORK_PHASES,
}


class RootCauseCategory(models.TextChoices):
    CONFIGURATION_CHANGE = "configuration_change", "Configuration change"
    DEPLOYMENT = "deployment", "Deployment"
    RESOURCE_EXHAUSTION = "resource_exhaustion", "Resource exhaustion"
    CAPACITY = "capacity", "Capacity"
    DEPENDENCY = "dependency", "Dependency"
    NETWORK = "network", "Network"
    HARDWARE = "hardware", "Hardware"
    SECURITY = "security", "Security"
    UNKNOWN = "unknown", "Unknown"


class UsersAffected(models.TextChoices):
    ALL = "all", "All users"
    MANY = "many", "Many users"
    SOME = "some", "Some users"
    FEW = "few", "Few users"


class DismissalReason(models.TextChoices):
    FALSE_ALARM = "false_alarm", "False alarm"
    DUPLICATE = "duplicate", "Duplicate"


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal"
    PUBLIC = "public", "Public"


class Role(models.TextChoices):
    COMMANDER = "commander", "Incident commander"
    TECHNICAL_LEAD = "technical_lead", "Technical lead"
    COMMUNICATIONS_LEAD = "communications_lead", "Communications lead"
    SCRIBE = "scribe", "Scribe"


class SlaTarget(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    HELD = "held", "Put on hold"
    RESUMED = "resumed", "Resumed"
    RESOLVED = "resolved", "Resolved"
    AUTO_RESOLVED = "auto_resolved", "Resolved automatically"
    REOPENED = "reopened", "Reopened"
    CLOSED = "closed", "Closed"
    DISMISSED = "dismissed", "Dismissed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    ASSIGNEE_CHANGED = "assignee_changed", "Assignee changed"
    PHASE_CHANGED = "phase_changed", "Phase changed"
    UPDATED = "updated", "Details updated"
    ROLE_ASSIGNED = "role_assigned", "Role assigned"
    ROLE_UNASSIGNED = "role_unassigned", "Role unassigned"
    STATUS_UPDATE = "status_update", "Status update"
    NOTE = "note", "Note"
    SLA_BREACHED = "sla_breached", "SLA breached"
    UPDATE_OVERDUE = "update_overdue", "Status update overdue"
    ACTION_REQUESTED = "action_requested", "Action requested"
    ACTION_APPROVED = "action_approved", "Action approved"
    ACTION_REJECTED = "action_rejected", "Action rejected"
    ACTION_EXPIRED = "action_expired", "Action approval expired"
    ACTION_STARTED = "action_started", "Action started"
    ACTION_FINISHED = "action_finished", "Action finished"
    ALERT_ATTACHED = "alert_attached", "Alert attached"
    ALERT_RESOLVED = "alert_resolved", "Alert resolved"
    POSTMORTEM = "postmortem", "Post-mortem"
