from django.conf import settings
from django.db import models

from common.models import BaseModel
from incidents.choices import Role


class RoleAssignment(BaseModel):
    """Who holds a response role on an incident. The commander lives on Incident.commander."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=30, choices=[c for c in Role.choices if c[0] != Role.COMMANDER])
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="incident_roles"
    )

    class Meta:
        ordering = ["incident", "role"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "role"], name="%(app_label)s_%(class)s_one_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"
