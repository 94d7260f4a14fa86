from django.db import models
from django.db.models import Q

from alerts.choices import AlertStatus
from alerts.models.source import AlertSource
from common.models import BaseModel


class AlertPayload(models.Model):
    """A request body exactly as a source posted it, kept for auditing and replaying parsers."""

    source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name="payloads")
    received_at = models.DateTimeField(db_index=True)
    body = models.JSONField()
    alert_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} payload at {self.received_at:%Y-%m-%d %H:%M:%S}"


class Alert(BaseModel):
    """One alert of one source, identified by its fingerprint. While it fires, repeats of it update
    this row (occurrence_count, last_received_at); the database allows a single firing row per
    source and fingerprint. Once resolved, a new firing opens a new row."""

    source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name="alerts")
    payload = models.ForeignKey(
        AlertPayload, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    fingerprint = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.FIRING)
    severity = models.CharField(max_length=50, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    last_received_at = models.DateTimeField()
    occurrence_count = models.PositiveIntegerField(default=1)
    generator_url = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)
    service = models.ForeignKey(
        "incidents.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    # False until the latest change (firing, or resolved) has been through rule matching; the
    # processing task sets it, and the sweeper picks up rows the broker never delivered.
    processed = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Failed attempts at processing the latest change, and the last one's error. After
    # ALERT_PROCESSING_MAX_ATTEMPTS the alert is marked failed: the sweeper leaves it, the admin shows it.
    processing_attempts = models.PositiveSmallIntegerField(default=0)
    processing_error = models.TextField(blank=True)
    processing_failed_at = models.DateTimeField(null=True, blank=True)
    # Firing notifications received after it resolved that had started before it ended: a sender's
    # stale retry or replay, counted here instead of reopening the alert.
    replays = models.PositiveIntegerField(default=0)
    silenced_by = models.ForeignKey(
        "alerts.Silence", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    # Every rule it matched, in order: [{"rule": id, "name": str, "reasons": [str]}].
    matches = models.JSONField(default=list, blank=True)
    # The first matching rule with an incident policy, and the group key under its `group_by`.
    rule = models.ForeignKey(
        "alerts.AlertRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    group_key = models.CharField(max_length=500, blank=True)
    # This alert's firing opened its incident (rather than joining one): the closed loop's premise.
    opened_incident = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True, help_text="What processing did, line by line.")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="alerts_alert_received"),
            models.Index(fields=["source", "fingerprint"], name="alerts_alert_fingerprint"),
            models.Index(
                fields=["last_received_at"],
                condition=Q(processed=False, processing_failed_at__isnull=True),
                name="alerts_alert_to_process",
            ),
            models.Index(
                fields=["-processing_failed_at"],
                condition=Q(processing_failed_at__isnull=False),
                name="alerts_alert_failed",
            ),
            # With the incident: a group's incidents are read from the index, one probe each
            # (alerts.selectors.incident_open_for_group), not from its every alert.
            models.Index(fields=["rule", "group_key", "incident"], name="alerts_alert_group_incident"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "fingerprint"],
                condition=Q(status="firing"),
                name="alerts_alert_one_open_per_fingerprint",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.fingerprint} ({self.status})"


class TriggeredRun(models.Model):
    """An automated response fired for an alert: the run it requested, or why it could not."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="triggered_runs")
    response = models.ForeignKey(
        "alerts.AutomatedResponse", on_delete=models.SET_NULL, null=True, related_name="triggered_runs"
    )
    run = models.OneToOneField(
        "actions.ActionRun", on_delete=models.CASCADE, null=True, blank=True, related_name="triggered_by"
    )
    trigger = models.CharField(max_length=20)
    error = models.TextField(blank=True, help_text="Why no run was requested.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.response or 'Response'} for alert {self.alert_id}"
