from django.conf import settings
from django.db import models

from common.models import BaseModel


class CalendarFeed(BaseModel):
    """A secret `.ics` URL: one schedule's final shifts, or (schedule empty) the owner's own shifts on
    every schedule. Only a SHA-256 of the token is kept; the URL is shown once, at creation."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    schedule = models.ForeignKey(
        "oncall.Schedule", null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.schedule or 'My shifts'} ({self.token_prefix}…)"
