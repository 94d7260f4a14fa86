from django.conf import settings
from django.db import models
from django_fsm import FSMField, transition

from common.models import BaseModel
from notifications.choices import DeliveryStatus, EventKind

SENDABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class Delivery(BaseModel):
    """One message to one target (a channel, or one person's contact method): the ledger row.

    pending -> sending -> sent | failed (transient: retried at next_attempt_at) | dead (permanent)
    pending -> bundled (folded into `bundled_into`, sent with it); pending | failed -> cancelled (a
    page's later contact methods once someone acknowledged). A worker claims the row under a
    lock (sending) before it sends, so a message is never sent twice."""

    event_key = models.CharField(max_length=64, help_text="The event's id: a repeated route adds nothing.")
    target_key = models.CharField(
        max_length=80, help_text='"c:<channel>" or "u:<user>:<kind>:<address digest>".'
    )
    event_kind = models.CharField(max_length=40, choices=EventKind.choices)
    event = models.JSONField(default=dict, help_text="The event as routed: message, details, actor, time.")
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    rule = models.ForeignKey(
        "notifications.NotificationRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    channel = models.ForeignKey(
        "notifications.Channel", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    external = models.CharField(
        max_length=40,
        blank=True,
        help_text="For people who are neither users nor channels (status page subscribers): the "
        "registered audience that builds the message and target (notifications.external).",
    )
    contact_kind = models.CharField(max_length=10, blank=True)
    address = models.CharField(max_length=254, blank=True, help_text="Where a message to a person went.")
    audience = models.CharField(max_length=10, default="internal")
    status = FSMField(
        default=DeliveryStatus.PENDING, choices=DeliveryStatus.choices, protected=True, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    task_id = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(null=True, blank=True, help_text="What was sent, rendered, secrets left out.")
    bundled_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="bundled_events"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notifications_delivery_due")]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "target_key"], name="%(app_label)s_%(class)s_once"),
            models.CheckConstraint(
                condition=models.Q(channel__isnull=False)
                | models.Q(user__isnull=False)
                | ~models.Q(external=""),
                name="%(app_label)s_%(class)s_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_kind_display()} -> {self.target_label}"

    @property
    def target_label(self) -> str:
        if self.channel_id:
            return str(self.channel)
        if self.external:
            return self.address
        return f"{self.user} ({self.contact_kind} {self.address})"

    @transition(field=status, source=list(SENDABLE), target=DeliveryStatus.SENDING)
    def claim(self) -> None:
        pass

    @transition(field=status, source=DeliveryStatus.SENDING, target=DeliveryStatus.SENT)
    def succeed(self) -> None:
        pass

    @transition(field=status, source=DeliveryStatus.SENDING, target=DeliveryStatus.FAILED)
    def fail(self) -> None:
        pass

    @transition(field=status, source=[DeliveryStatus.SENDING, *SENDABLE], target=DeliveryStatus.DEAD)
    def give_up(self) -> None:
        pass

    @transition(field=status, source=DeliveryStatus.PENDING, target=DeliveryStatus.BUNDLED)
    def fold(self) -> None:
        pass

    @transition(field=status, source=list(SENDABLE), target=DeliveryStatus.CANCELLED)
    def cancel(self) -> None:
        pass

    @transition(
        field=status, source=[DeliveryStatus.DEAD, DeliveryStatus.FAILED], target=DeliveryStatus.PENDING
    )
    def retry(self) -> None:
        pass
