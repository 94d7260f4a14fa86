from django.db import models

from common.models import BaseModel


class ServiceCapture(BaseModel):
    """Which action captures a service's state when one of its incidents opens (the runbook's
    "Initial State Capture"). Kept in actions because incidents sits below it: a Service cannot name
    an Action itself. One row per service; `parameters` are the action's values for this service
    (e.g. the health check's endpoint)."""

    service = models.OneToOneField("incidents.Service", on_delete=models.CASCADE, related_name="capture")
    action = models.ForeignKey("actions.Action", on_delete=models.PROTECT, related_name="service_captures")
    parameters = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["service__name", "id"]

    def __str__(self) -> str:
        return f"State capture of {self.service}"
