from datetime import timedelta

from django.db import models

from actions.choices import Category, FailurePolicy, Risk, StepCondition, TargetKind
from common.models import BaseModel


class Action(BaseModel):
    """A remediation defined once and run many times: ordered steps with declared parameters.

    `parameters` is a list of {"name", "description", "default", "required", "pattern"}; values are
    checked against it when a run is requested and reach commands only shell-quoted.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    tags = models.JSONField(default=list, blank=True)
    estimated_duration = models.DurationField(default=timedelta(minutes=1))
    risk = models.CharField(max_length=10, choices=Risk.choices, default=Risk.LOW)
    parameters = models.JSONField(default=list, blank=True)
    services = models.ManyToManyField("incidents.Service", related_name="actions", blank=True)
    template_key = models.CharField(
        max_length=50, blank=True, help_text="The shipped template this action was cloned from."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("run_action", "Can run and cancel actions"),
        ]

    def __str__(self) -> str:
        return self.name


class ActionStep(models.Model):
    """One command of an action, run on its target after the steps before it."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100)
    target_kind = models.CharField(max_length=10, choices=TargetKind.choices, default=TargetKind.PROVIDER)
    provider = models.ForeignKey(
        "actions.Provider", on_delete=models.PROTECT, null=True, blank=True, related_name="steps"
    )
    provider_group = models.ForeignKey(
        "actions.ProviderGroup", on_delete=models.PROTECT, null=True, blank=True, related_name="steps"
    )
    target_parameter = models.CharField(
        max_length=50,
        blank=True,
        help_text="For 'host named by a parameter': the parameter holding a provider's address or name.",
    )
    command = models.TextField(help_text="{{ params.name }} and {{ incident.reference }} are shell-quoted.")
    timeout_seconds = models.PositiveIntegerField(default=60)
    retries = models.PositiveIntegerField(default=0)
    retry_delay_seconds = models.PositiveIntegerField(default=5)
    condition = models.CharField(max_length=20, choices=StepCondition.choices, default=StepCondition.ALWAYS)
    failure_policy = models.CharField(
        max_length=10, choices=FailurePolicy.choices, default=FailurePolicy.ALL_MUST_SUCCEED
    )

    class Meta:
        ordering = ["action", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(target_kind=TargetKind.PROVIDER, provider__isnull=False)
                    | models.Q(target_kind=TargetKind.GROUP, provider_group__isnull=False)
                    | (models.Q(target_kind=TargetKind.TRIGGER) & ~models.Q(target_parameter=""))
                ),
                name="%(app_label)s_%(class)s_target_set",
                violation_error_message="Choose the step's provider, group or target parameter.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    @property
    def worst_case_seconds(self) -> int:
        """Longest this step can take on one host: every attempt timing out, plus the waits."""
        attempts = self.retries + 1
        return attempts * self.timeout_seconds + self.retries * self.retry_delay_seconds
