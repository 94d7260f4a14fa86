from django.conf import settings
from django.db import models

from common.models import BaseModel


class Runbook(BaseModel):
    """What to do when a service (or an alert rule's alerts) breaks: ordered Markdown steps, each
    optionally linked to an action. Every edit is kept as a `RunbookVersion` with its author."""

    title = models.CharField(max_length=200)
    service = models.ForeignKey(
        "incidents.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="runbooks",
        help_text="Shown on this service's incidents; blank: only where an alert rule names it.",
    )
    summary = models.TextField(blank=True, help_text="Markdown shown above the steps.")
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runbooks_updated",
        editable=False,
    )

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class RunbookStep(models.Model):
    """One step: Markdown text and, optionally, the action that carries it out."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    text = models.TextField(help_text="Markdown.")
    action = models.ForeignKey(
        "actions.Action",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runbook_steps",
    )
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text='Parameters filled from the incident, e.g. {"host": "{{ alert.labels.instance }}"}.',
    )

    class Meta:
        ordering = ["runbook", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["runbook", "position"], name="actions_runbookstep_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Step {self.position}"


class RunbookVersion(models.Model):
    """A runbook as it stood after one edit: title, summary and steps (with action ids and names)
    as JSON, who made the edit and when."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    steps = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runbook_versions",
    )
    author_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["runbook", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["runbook", "number"], name="actions_runbookversion_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.runbook} v{self.number}"
