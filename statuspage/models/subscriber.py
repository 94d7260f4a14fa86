import secrets

from django.db import models
from django_fsm import FSMField, transition

from common.fields import EncryptedTextField
from common.models import BaseModel
from statuspage.choices import SubscriberKind, SubscriberStatus


def new_key() -> str:
    return secrets.token_urlsafe(16)


class Subscriber(BaseModel):
    """Someone told of every update: an email address (confirmed by double opt-in) or a webhook
    (added by an operator). No components chosen means all of them.

    pending -> active (confirmed) -> unsubscribed; pending -> unsubscribed. `key` is mixed into the
    confirm and unsubscribe links: a new key voids every link sent before."""

    kind = models.CharField(max_length=10, choices=SubscriberKind.choices, default=SubscriberKind.EMAIL)
    email = models.EmailField(blank=True, db_index=True)
    webhook_url = EncryptedTextField(blank=True, help_text="Encrypted: it may carry a token.")
    webhook_host = models.CharField(max_length=255, blank=True, help_text="The URL's host, for lists.")
    webhook_secret = EncryptedTextField(blank=True, help_text="Signs each POST (X-Mitigate-Signature).")
    components = models.ManyToManyField("statuspage.Component", blank=True, related_name="subscribers")
    status = FSMField(
        default=SubscriberStatus.PENDING, choices=SubscriberStatus.choices, protected=True, db_index=True
    )
    key = models.CharField(max_length=32, default=new_key)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="email") & ~models.Q(email=""))
                | (models.Q(kind="webhook") & ~models.Q(webhook_host="")),
                name="%(app_label)s_%(class)s_has_address",
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(kind="email") & ~models.Q(status="unsubscribed"),
                name="%(app_label)s_%(class)s_one_per_email",
            ),
        ]

    def __str__(self) -> str:
        return self.email if self.kind == SubscriberKind.EMAIL else f"Webhook to {self.webhook_host}"

    @transition(field=status, source=SubscriberStatus.PENDING, target=SubscriberStatus.ACTIVE)
    def confirm(self) -> None:
        pass

    @transition(
        field=status,
        source=[SubscriberStatus.PENDING, SubscriberStatus.ACTIVE],
        target=SubscriberStatus.UNSUBSCRIBED,
    )
    def unsubscribe(self) -> None:
        pass
