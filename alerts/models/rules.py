from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from alerts.choices import IncidentPolicy, ResponseTrigger
from alerts.matching import matchers_problems
from common.models import BaseModel


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
    runbook = models.ForeignKey(
        "actions.Runbook",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text="Shown on incidents this rule's alerts open or join, besides their services' runbooks.",
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


class AutomatedResponse(models.Model):
    """An action a rule triggers for each alert it matches: at once, after a delay (cancelled if the
    alert resolves first), or as a run awaiting an approver. `parameters` maps each action parameter
    to a template such as `{{ alert.labels.instance }}`; the values are validated against the action's
    declared parameters (alerts.response_parameters, checked by alert_rule_save) and shell-quoted when
    a command is rendered."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="responses")
    action = models.ForeignKey("actions.Action", on_delete=models.PROTECT, related_name="automated_responses")
    order = models.PositiveIntegerField(default=0)
    trigger = models.CharField(
        max_length=20, choices=ResponseTrigger.choices, default=ResponseTrigger.IMMEDIATE
    )
    delay_seconds = models.PositiveIntegerField(default=0, help_text="For trigger after_delay.")
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text='Action parameter -> value template, e.g. {"host": "{{ alert.labels.instance }}"}.',
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["rule", "order", "id"]

    def __str__(self) -> str:
        return f"{self.action} ({self.get_trigger_display().lower()})"
