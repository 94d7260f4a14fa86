from django.conf import settings
from django.db import models

from common.fields import EncryptedTextField
from common.models import BaseModel
from notifications.choices import ChannelKind, ContactKind


class Channel(BaseModel):
    """A place messages go: a Slack channel, a Teams workflow, a mailbox, phones, a webhook.

    `secret` (webhook URL, bot token, "SID:TOKEN", apprise URL, HMAC key) is encrypted at rest and
    write-only in admin and API. `config` holds what is not secret (Slack channel name, email
    recipients, SMS numbers). Repeated permanent failures disable the channel with the reason."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    config = models.JSONField(default=dict, blank=True)
    secret = EncryptedTextField(blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True)
    permanent_failures = models.PositiveIntegerField(
        default=0, help_text="Permanent failures in a row; a success resets it."
    )
    # A provider's 429 pauses this channel only (Retry-After); the others keep sending.
    paused_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContactMethod(BaseModel):
    """How to reach one person directly: an email address or a phone number for SMS."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    address = models.CharField(
        max_length=254, help_text="Email address, or phone number in E.164 (+4915112345678)."
    )
    enabled = models.BooleanField(default=True)
    page_delay_minutes = models.PositiveIntegerField(
        default=0,
        help_text="When paged (on call), minutes after the page before this method is used: "
        "SMS at 0, email at 1, ...",
    )

    class Meta:
        ordering = ["user_id", "kind", "address"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "address"], name="%(app_label)s_%(class)s_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"


class IncidentThread(BaseModel):
    """The Slack thread (and optional #inc- channel) one incident has on one bot channel: every
    later message about the incident is a reply in it."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="threads")
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="notification_threads"
    )
    thread_ts = models.CharField(max_length=40, blank=True)
    incident_channel_id = models.CharField(max_length=40, blank=True)
    incident_channel_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "incident"], name="%(app_label)s_%(class)s_unique"),
        ]
