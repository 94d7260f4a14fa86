from django.conf import settings
from django.db import models

from common.models import BaseModel
from incidents.choices import Phase, Visibility


class StatusUpdate(BaseModel):
    """A progress message for responders (internal) or stakeholders and the status page (public)."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="status_updates"
    )
    message = models.TextField()
    phase = models.CharField(max_length=20, choices=Phase.choices, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="status_updates",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["incident", "-created_at"], name="incidents_update_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_visibility_display()} update on {self.created_at:%Y-%m-%d %H:%M}"
