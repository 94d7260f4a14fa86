from django.db import models

from common.models import BaseModel
from notifications.choices import Audience, EventKind


class MessageTemplate(BaseModel):
    """The words of one event kind for one audience, in Django's template language over the
    documented context (notifications/rendering/context.py). Defaults are written at migrate."""

    event_kind = models.CharField(max_length=40, choices=EventKind.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.INTERNAL)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["event_kind", "audience"]
        constraints = [
            models.UniqueConstraint(fields=["event_kind", "audience"], name="%(app_label)s_%(class)s_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_kind_display()} ({self.get_audience_display().lower()})"
