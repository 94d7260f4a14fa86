from django.db import models


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


# Incidents of these priorities need a post-mortem, in review or published, before they close.
POSTMORTEM_PRIORITIES = ("P1", "P2")
POSTMORTEM_READY_STATUSES = (PostmortemStatus.IN_REVIEW, PostmortemStatus.PUBLISHED)


class PublicationEmail(models.TextChoices):
    """The publication email's send state: the outbox the beat sweeper reads."""

    NOT_DUE = "", "Not published"
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    NO_RECIPIENTS = "no_recipients", "Not sent: no stakeholder addresses"


class ActionItemKind(models.TextChoices):
    MONITORING = "monitoring", "Monitoring"
    RUNBOOK = "runbook", "Runbook"
    AUTOMATION = "automation", "Automation"
    CONFIGURATION = "configuration", "Configuration"
    PROCESS = "process", "Process"
    TRAINING = "training", "Training"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


OPEN_ITEM_STATUSES = (ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS)


class EntrySource(models.TextChoices):
    """Where a post-mortem timeline entry came from; `author` entries are never regenerated."""

    TIMELINE = "timeline", "Incident timeline"
    ALERT = "alert", "Alert"
    ACTION_RUN = "action_run", "Action run"
    STATUS_UPDATE = "status_update", "Status update"
    AUTHOR = "author", "Added by an author"
