from django.conf import settings
from django.db import models
from django.utils import timezone

from common.actor import Source
from incidents.choices import EventKind


class TimelineEvent(models.Model):
    """One entry of an incident's append-only audit trail.

    Written by services in the same transaction as the change it records. Only the pin (with who
    set it and when) may change afterwards; post-mortem timelines and analytics timestamps are read
    from here.
    """

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="timeline_events"
    )
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="timeline_events",
    )
    # Kept so the trail still says who acted after a user is deleted, and names system actors.
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=20, choices=Source.choices)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    # A key moment, starred by a responder (incidents.services.timeline_event_pin); pinned events
    # lead the post-mortem's timeline.
    pinned = models.BooleanField(default=False)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pinned_timeline_events",
    )
    pinned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["incident", "occurred_at", "id"], name="incidents_timeline_order"),
            models.Index(fields=["kind", "occurred_at"], name="incidents_timeline_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.get_kind_display()}"
