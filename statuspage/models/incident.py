from django.conf import settings
from django.db import models
from django_fsm import RETURN_VALUE, FSMField, transition

from common.models import BaseModel
from statuspage.choices import ENDED, ComponentStatus, Impact, Kind, PublicStatus

OPEN = [status for status in PublicStatus.values if status not in ENDED]


class PublicIncident(BaseModel):
    """What customers are told about an incident or a maintenance window, apart from what
    responders say among themselves: its own title, impact, components and updates.

    Incidents: investigating | identified | monitoring (in any order) -> resolved.
    Maintenance: scheduled -> in_progress (at `scheduled_for`, by beat) | verifying -> completed
    (at `scheduled_until`, by beat, or by hand)."""

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INCIDENT)
    incident = models.OneToOneField(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="public_incident",
        help_text="The Mitigate incident behind it, if any (never shown on the page).",
    )
    title = models.CharField(max_length=200)
    impact = models.CharField(max_length=12, choices=Impact.choices, default=Impact.MINOR)
    status = FSMField(
        default=PublicStatus.INVESTIGATING, choices=PublicStatus.choices, protected=True, db_index=True
    )
    components = models.ManyToManyField(
        "statuspage.Component", through="statuspage.AffectedComponent", related_name="public_incidents"
    )
    started_at = models.DateTimeField(help_text="When customers were first told (or the window opens).")
    resolved_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "status"], name="statuspage_incident_open"),
            models.Index(fields=["-started_at"], name="statuspage_incident_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="incident")
                | (
                    models.Q(scheduled_for__isnull=False)
                    & models.Q(scheduled_until__isnull=False)
                    & models.Q(scheduled_until__gt=models.F("scheduled_for"))
                ),
                name="%(app_label)s_%(class)s_window",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # From resolved too: an update that says the incident is back reopens it.
    @transition(field=status, source=[*OPEN, PublicStatus.RESOLVED], target=RETURN_VALUE(*OPEN))
    def move(self, to: str) -> str:
        return to

    @transition(field=status, source=OPEN, target=RETURN_VALUE(*ENDED))
    def end(self, to: str) -> str:
        return to


class AffectedComponent(models.Model):
    """A component named by a public incident, with the status the incident gives it while open."""

    public_incident = models.ForeignKey(PublicIncident, on_delete=models.CASCADE, related_name="affected")
    component = models.ForeignKey(
        "statuspage.Component", on_delete=models.CASCADE, related_name="affected_by"
    )
    status = models.CharField(max_length=30, choices=ComponentStatus.choices)

    class Meta:
        ordering = ["component__order", "component__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["public_incident", "component"], name="%(app_label)s_%(class)s_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.component_id}: {self.status}"


class PublicUpdate(BaseModel):
    """One message posted to the page, with the status it moved the incident to and what it did
    to the components (`affected_components`: [{"code", "name", "old_status", "new_status"}])."""

    public_incident = models.ForeignKey(PublicIncident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=PublicStatus.choices)
    message = models.TextField()
    affected_components = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_update = models.OneToOneField(
        "incidents.StatusUpdate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="public_update",
        help_text="The incident's public status update it was posted from, if any.",
    )
    notify = models.BooleanField(default=True, help_text="Subscribers were told of it.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["public_incident", "-created_at"], name="statuspage_update_recent")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} update on {self.created_at:%Y-%m-%d %H:%M}"
