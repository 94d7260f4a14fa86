from django.db import models

from common.models import BaseModel
from incidents.choices import ServiceTier, ServiceType


class Service(BaseModel):
    """A catalog entry: something that can break. Incidents, alerts and actions refer to it."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    type = models.CharField(max_length=20, choices=ServiceType.choices, default=ServiceType.OTHER)
    owner_team = models.CharField(max_length=100, blank=True)
    owner_email = models.EmailField(blank=True, help_text="The owning team's address: post-mortems go there.")
    runbook_url = models.URLField(blank=True)
    tier = models.PositiveSmallIntegerField(choices=ServiceTier.choices, default=ServiceTier.TIER_2)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Priority(models.Model):
    """P1..P5 with their response, resolution and status-update targets (empty: best effort)."""

    code = models.CharField(max_length=2, unique=True, help_text="P1 (most urgent) to P5.")
    name = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    response_target = models.DurationField(
        null=True, blank=True, help_text="Time from detection to acknowledgement."
    )
    resolution_target = models.DurationField(
        null=True, blank=True, help_text="Time from detection to resolution."
    )
    update_interval = models.DurationField(
        null=True, blank=True, help_text="Maximum time between status updates while open."
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "priorities"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
