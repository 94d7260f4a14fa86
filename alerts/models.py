"""Where alerts come from, the payloads they arrived in, the normalized alerts themselves, and the rules
and silences they are matched against."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from alerts.choices import AlertStatus, IncidentPolicy, SourceKind
from alerts.matching import matchers_problems
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


def default_group_by() -> list[str]:
    return ["alertname", "service"]


def _validate_matchers(matchers) -> None:
    problems = matchers_problems(matchers)
    if problems:
        raise ValidationError({"matchers": problems})


class AlertRule(BaseModel):
    """What to do with an alert. Enabled rules are tried by `order` (then id); the first whose
    matchers, alert name and severity all match wins, unless it says `continue_matching`, in which
    case later rules are tried too. Matchers are a JSON list of `{"label", "op", "value"}` with op
    `eq`, `neq`, `regex` (anchored full match) or `exists` (see alerts.matching).

    A match sets the alert's service (when the rule names one) and the incident's priority (the
    rule's, or else mapped from the alert's severity), and `incident_policy` says whether to open an
    incident, attach to the open incident of the same group key (`group_by` labels), or neither."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    order = models.IntegerField(default=100, db_index=True, help_text="Lower runs first.")
    enabled = models.BooleanField(default=True)
    matchers = models.JSONField(default=list, blank=True, help_text="All must hold; empty matches any alert.")
    alert_name = models.CharField(max_length=255, blank=True, help_text="Exact alert name; blank: any.")
    severity = models.CharField(max_length=50, blank=True, help_text="Exact severity; blank: any.")
    service = models.ForeignKey(
        "incidents.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text="Set on matching alerts; empty: leave the alert's service as it is.",
    )
    priority = models.ForeignKey(
        "incidents.Priority",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text="Empty: mapped from the alert's severity (critical P1, high/error P2, warning P3, "
        "info P4, other P3).",
    )
    incident_policy = models.CharField(
        max_length=10, choices=IncidentPolicy.choices, default=IncidentPolicy.CREATE
    )
    group_by = models.JSONField(
        default=default_group_by,
        blank=True,
        help_text="Label names whose values group alerts into one incident (policy attach).",
    )
    continue_matching = models.BooleanField(
        default=False, help_text="Also try the rules after this one when it matches."
    )

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        _validate_matchers(self.matchers)
        if not isinstance(self.group_by, list) or not all(
            isinstance(name, str) and name.strip() for name in self.group_by
        ):
            raise ValidationError({"group_by": "Grouping labels must be a list of non-empty label names."})


class Silence(models.Model):
    """A maintenance window: alerts whose labels match every matcher while it is active (from
    `starts_at` inclusive to `ends_at` exclusive) are stored but marked silenced and trigger
    nothing. Matchers as for `AlertRule`; a silence needs at least one."""

    matchers = models.JSONField(default=list)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(db_index=True)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alert_silences",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return f"Silence {self.pk}: {self.reason[:50]}"

    def clean(self) -> None:
        super().clean()
        if isinstance(self.matchers, list) and not self.matchers:
            raise ValidationError({"matchers": "A silence needs at least one matcher."})
        _validate_matchers(self.matchers)
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})
