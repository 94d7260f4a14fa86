from django.db import models

from common.models import BaseModel
from statuspage.choices import ComponentStatus


class ComponentGroup(BaseModel):
    """A heading on the page that components sit under ("API", "Website")."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Component(BaseModel):
    """A part of the product as customers see it, with its current status.

    The status is stored (the page reads it without working it out) and is changed only by the
    services: an operator setting it, an incident update naming it, maintenance starting or ending.
    Every change is a ComponentStatusChange row, which the history bars are drawn from."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    order = models.PositiveIntegerField(default=0)
    services = models.ManyToManyField(
        "incidents.Service",
        blank=True,
        related_name="status_components",
        help_text="Mitigate services behind it: their incidents suggest this component.",
    )
    shown = models.BooleanField(default=True, help_text="Hidden components are left off the page.")
    status = models.CharField(
        max_length=30, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class ComponentStatusChange(models.Model):
    """The component's status from `at` until its next change: what the history bars are drawn from."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=30, choices=ComponentStatus.choices)
    at = models.DateTimeField()
    public_incident = models.ForeignKey(
        "statuspage.PublicIncident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["component_id", "at", "id"]
        indexes = [models.Index(fields=["component", "at"], name="statuspage_change_when")]

    def __str__(self) -> str:
        return f"{self.component_id} {self.status} at {self.at:%Y-%m-%d %H:%M}"
