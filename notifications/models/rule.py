from django.contrib.auth.models import Group
from django.db import models

from common.models import BaseModel
from notifications.choices import ContactKind


class NotificationRule(BaseModel):
    """Who hears of what: event kinds x priorities x services/teams (empty = any) -> channels and
    people. Rules are read in `position` order; a matching rule with `stop` ends the reading."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100, db_index=True)
    enabled = models.BooleanField(default=True)
    event_kinds = models.JSONField(default=list, help_text="Event kinds this rule matches (at least one).")
    priorities = models.ManyToManyField("incidents.Priority", blank=True, related_name="notification_rules")
    services = models.ManyToManyField("incidents.Service", blank=True, related_name="notification_rules")
    teams = models.JSONField(
        default=list, blank=True, help_text="Owner teams of the incident's services (any of)."
    )
    channels = models.ManyToManyField("notifications.Channel", blank=True, related_name="rules")
    users = models.ManyToManyField("auth.User", blank=True, related_name="notification_rules")
    groups = models.ManyToManyField(Group, blank=True, related_name="notification_rules")
    roles = models.JSONField(
        default=list, blank=True, help_text="Incident roles to notify (RecipientRole values)."
    )
    contact_kinds = models.JSONField(
        default=list, blank=True, help_text="Which of a person's contact methods to use; empty means email."
    )
    stop = models.BooleanField(default=False, help_text="When this rule matches, read no further rules.")
    bundle_seconds = models.PositiveIntegerField(
        default=0, help_text="At most one message per incident per this many seconds; 0 sends each event."
    )
    create_incident_channel = models.BooleanField(
        default=False,
        help_text="Slack bot channels: open #inc-<reference> for the incident (incident opened only).",
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def person_kinds(self) -> list[str]:
        return list(self.contact_kinds) or [ContactKind.EMAIL]
