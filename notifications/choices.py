from django.db import models


class ChannelKind(models.TextChoices):
    SLACK_WEBHOOK = "slack_webhook", "Slack (incoming webhook)"
    SLACK_BOT = "slack_bot", "Slack (bot token, threads per incident)"
    TEAMS = "teams", "Microsoft Teams (Workflows webhook)"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS (Twilio)"
    WEBHOOK = "webhook", "Webhook (signed JSON)"
    APPRISE = "apprise", "Other service (apprise URL)"


class ContactKind(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class EventKind(models.TextChoices):
    """What reaches people. Each comes from a timeline event (or a run's milestone) of a lower app."""

    INCIDENT_OPENED = "incident_opened", "Incident opened"
    ACKNOWLEDGED = "acknowledged", "Incident acknowledged"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    ROLE_ASSIGNED = "role_assigned", "Role assigned"
    UPDATE_INTERNAL = "update_internal", "Status update posted (internal)"
    UPDATE_PUBLIC = "update_public", "Status update posted (public)"
    SLA_RESPONSE_BREACHED = "sla_response_breached", "Response SLA breached"
    SLA_RESOLUTION_BREACHED = "sla_resolution_breached", "Resolution SLA breached"
    UPDATE_OVERDUE = "update_overdue", "Status update overdue"
    ALERT_JOINED = "alert_joined", "Alert joined the incident"
    RESOLVED = "resolved", "Incident resolved"
    REOPENED = "reopened", "Incident reopened"
    CLOSED = "closed", "Incident closed"
    RUN_AWAITING_APPROVAL = "run_awaiting_approval", "Action run awaiting approval"
    RUN_FAILED = "run_failed", "Action run failed"
    RUN_TIMED_OUT = "run_timed_out", "Action run timed out"
    POSTMORTEM_PUBLISHED = "postmortem_published", "Post-mortem published"
    CHANNEL_DISABLED = "channel_disabled", "Channel disabled after failures"
    PAGE = "page", "Paged (on call)"
    TEST = "test", "Test message"
    DRILL_STARTED = "drill_started", "Drill started (to its participants)"
    STATUS_PAGE = "status_page", "Status page update (to subscribers)"
    STATUS_PAGE_CONFIRM = "status_page_confirm", "Status page subscription confirmation"


# Sent by the status page to its subscribers, from its own templates: never a rule's or a template's.
EXTERNAL_KINDS = (EventKind.STATUS_PAGE, EventKind.STATUS_PAGE_CONFIRM)
RULE_KIND_CHOICES = [(value, label) for value, label in EventKind.choices if value not in EXTERNAL_KINDS]
RULE_KINDS = [value for value, _ in RULE_KIND_CHOICES]


class RecipientRole(models.TextChoices):
    COMMANDER = "commander", "Incident commander"
    ASSIGNEE = "assignee", "Assignee"
    COMMUNICATIONS_LEAD = "communications_lead", "Communications lead"
    TECHNICAL_LEAD = "technical_lead", "Technical lead"
    APPROVERS = "approvers", "Allowed approvers"
    SERVICE_OWNERS = "service_owners", "Service owners (members of the owning team's group)"


class Audience(models.TextChoices):
    INTERNAL = "internal", "Responders"
    CUSTOMER = "customer", "Customers"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (will retry)"
    DEAD = "dead", "Dead (not retried)"
    BUNDLED = "bundled", "Bundled into another message"
    CANCELLED = "cancelled", "Cancelled (no longer needed)"
