from django.conf import settings
from django.db import models
from django.utils import timezone


class BaseModel(models.Model):
    """Creation and modification times for every domain row."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ApiTokenStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class ApiToken(BaseModel):
    """A REST API credential of one user. Only the SHA-256 of the key is stored: the key is shown
    once, when it is created. A token stops working when it expires or is revoked; revoked rows are
    kept so the admin shows who revoked what and when."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses this token, e.g. “deploy pipeline”.")
    # The key's first characters, to tell tokens apart in lists; far too short to guess the rest.
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return ApiTokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return ApiTokenStatus.EXPIRED
        return ApiTokenStatus.ACTIVE


class OutboxMessage(BaseModel):
    """A task message the broker refused (it was down): common.tasks.outbox_flush publishes it again
    and deletes the row. Tasks are idempotent, so a message published twice does no harm."""

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    # The message's own id, for tasks that check it against their row (an action run's task_id).
    task_id = models.CharField(max_length=64, blank=True)
    eta = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "outbox message"

    def __str__(self) -> str:
        return f"{self.task_name}({self.kwargs})"
