"""Where alerts come from, the payloads they arrived in, and the normalized alerts themselves."""

from django.db import models
from django.db.models import Q

from alerts.choices import AlertStatus, SourceKind
from common.fields import EncryptedTextField
from common.models import BaseModel


class AlertSource(BaseModel):
    """A monitoring system that posts alerts to `/hooks/<token>/` (or `/hooks/<slug>/` with a bearer
    token). Only a SHA-256 hash of the token is kept, plus its first characters so people can tell
    tokens apart; alerts.services returns the full token once, at creation and rotation."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False)
    # Grafana signs the raw body with it (X-Grafana-Alerting-Signature); empty: no signature checked.
    hmac_secret = EncryptedTextField(blank=True)
    default_service = models.ForeignKey(
        "incidents.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alert_sources",
    )
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    max_body_bytes = models.PositiveIntegerField(default=1024 * 1024)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
    # Rule matching (a later stage) sets it; unprocessed rows are what a sweeper picks up.
    processed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="alerts_alert_received"),
            models.Index(fields=["source", "fingerprint"], name="alerts_alert_fingerprint"),
            models.Index(fields=["processed"], condition=Q(processed=False), name="alerts_alert_unprocessed"),
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
