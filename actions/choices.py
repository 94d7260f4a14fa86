from django.db import models


class ProviderKind(models.TextChoices):
    SSH = "ssh", "SSH host"
    LOCAL = "local", "Local (the worker's own machine)"


class AuthMethod(models.TextChoices):
    KEY = "key", "Private key"
    PASSWORD = "password", "Password"


class Risk(models.TextChoices):
    LOW = "low", "Low"
    HIGH = "high", "High (always needs approval)"


class Category(models.TextChoices):
    RESTART = "restart", "Service restart"
    CLEANUP = "cleanup", "Cleanup"
    DIAGNOSTICS = "diagnostics", "Diagnostics"
    HEALTH = "health", "Health check"
    BACKUP = "backup", "Backup and restore"
    SCALING = "scaling", "Scaling"
    OTHER = "other", "Other"


class TargetKind(models.TextChoices):
    PROVIDER = "provider", "One provider"
    GROUP = "group", "A provider group (every host, in parallel)"
    TRIGGER = "trigger", "The host named by a parameter"


class StepCondition(models.TextChoices):
    ALWAYS = "always", "Always"
    PREVIOUS_SUCCESS = "previous_success", "If the previous step succeeded"
    PREVIOUS_FAILURE = "previous_failure", "If the previous step failed"


class FailurePolicy(models.TextChoices):
    ALL_MUST_SUCCEED = "all", "Every host must succeed"
    CONTINUE_ON_PARTIAL = "partial", "Succeed if any host succeeds"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Approval expired"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELLED = "cancelled", "Cancelled"
    ABANDONED = "abandoned", "Abandoned"


FINISHED_RUN_STATUSES = (
    RunStatus.REJECTED,
    RunStatus.EXPIRED,
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.CANCELLED,
    RunStatus.ABANDONED,
)


class StepStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    TIMED_OUT = "timed_out", "Timed out"
    SKIPPED = "skipped", "Skipped (condition)"
    CANCELLED = "cancelled", "Cancelled"
