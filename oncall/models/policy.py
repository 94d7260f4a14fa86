from django.conf import settings
from django.db import models

from common.models import BaseModel
from oncall.choices import PRIORITY_CODES


class EscalationPolicy(BaseModel):
    """Who is told, in which order, until someone acknowledges.

    Steps run in order, each `delay_minutes` after the one before; after the last, the policy
    starts over `repeat_count` more times. Incidents at or above `page_threshold` page (escalate
    until acknowledged); at or above `notify_threshold` only the first step is told, once; below,
    nobody is."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    repeat_count = models.PositiveSmallIntegerField(
        default=1, help_text="How many more times the steps run after the last one, without an ack."
    )
    page_threshold = models.CharField(
        max_length=2, choices=PRIORITY_CODES, default="P2", help_text="This priority and more urgent page."
    )
    notify_threshold = models.CharField(
        max_length=2,
        choices=PRIORITY_CODES,
        blank=True,
        default="P3",
        help_text="Down to this priority the first step is notified once; empty: nobody.",
    )
    services = models.ManyToManyField(
        "incidents.Service", through="PolicyService", related_name="escalation_policies", blank=True
    )
    alert_rules = models.ManyToManyField(
        "alerts.AlertRule", through="PolicyAlertRule", related_name="escalation_policies", blank=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    """One round of notifying: named people, whoever is on call on named schedules (every layer's
    person with `notify_all_oncall`), and channels."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    delay_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes after the previous step (the first step: after the page opens)."
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="escalation_steps")
    schedules = models.ManyToManyField("oncall.Schedule", blank=True, related_name="escalation_steps")
    channels = models.ManyToManyField("notifications.Channel", blank=True, related_name="escalation_steps")
    notify_all_oncall = models.BooleanField(
        default=False, help_text="Every layer's on-call person of the schedules, not only the one on top."
    )

    class Meta:
        ordering = ["policy_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="%(app_label)s_%(class)s_position"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} step {self.position + 1}"


class PolicyService(models.Model):
    """A service pages through one policy."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="service_links")
    service = models.OneToOneField("incidents.Service", on_delete=models.CASCADE, related_name="policy_link")

    def __str__(self) -> str:
        return f"{self.service} -> {self.policy}"


class PolicyAlertRule(models.Model):
    """An alert rule pages through one policy (before its services' policies)."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="rule_links")
    rule = models.OneToOneField("alerts.AlertRule", on_delete=models.CASCADE, related_name="policy_link")

    def __str__(self) -> str:
        return f"{self.rule} -> {self.policy}"
