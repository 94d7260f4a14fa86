from django.db import models

from alerts.choices import SourceKind
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
    # What one alert may carry; past these the payload is refused with a 400 naming the limit. The
    # defaults are far above what Prometheus rules produce (Grafana Mimir refuses series with over 30
    # labels or label values over 2,048 characters) and keep a hostile payload from storing megabytes.
    max_labels = models.PositiveIntegerField(
        default=64, help_text="Most labels, and most annotations, one alert may carry."
    )
    max_label_name_length = models.PositiveIntegerField(
        default=256, help_text="Longest label or annotation name, in characters."
    )
    max_label_value_length = models.PositiveIntegerField(
        default=2048, help_text="Longest label value, in characters."
    )
    max_annotation_value_length = models.PositiveIntegerField(
        default=16384, help_text="Longest annotation value (descriptions run long), in characters."
    )
    enabled = models.BooleanField(default=True)
    is_drill = models.BooleanField(
        default=False,
        help_text="A drill source: the incidents its alerts open are drills, kept out of metrics.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
