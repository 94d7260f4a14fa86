from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from common.models import BaseModel
from postmortems.choices import ActionItemKind, ActionItemStatus

A = ActionItemStatus
CHANGE_PERMISSION = "postmortems.change_actionitem"


class ActionItem(ConcurrentTransitionMixin, BaseModel):
    """Follow-up work agreed in a post-mortem, owned by one person, tracked to done (or to won't do,
    with the reason). Its status changes only through postmortems.services."""

    postmortem = models.ForeignKey(
        "postmortems.Postmortem", on_delete=models.CASCADE, related_name="action_items"
    )
    description = models.TextField()
    kind = models.CharField(max_length=20, choices=ActionItemKind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items")
    due_date = models.DateField(db_index=True)
    status = FSMField(max_length=20, choices=A.choices, default=A.OPEN, protected=True, db_index=True)
    wont_do_reason = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    follow_up_action = models.ForeignKey(
        "actions.Action",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
        help_text="An automation created from this item.",
    )
    follow_up_url = models.URLField(blank=True, help_text="A ticket, a pull request, a runbook page.")

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["owner", "status", "due_date"], name="postmortems_item_owner")]

    def __str__(self) -> str:
        return self.description[:80]

    @transition(field=status, source=A.OPEN, target=A.IN_PROGRESS, permission=CHANGE_PERMISSION)
    def start(self) -> None:
        pass

    @transition(field=status, source=[A.OPEN, A.IN_PROGRESS], target=A.DONE, permission=CHANGE_PERMISSION)
    def complete(self) -> None:
        pass

    @transition(field=status, source=[A.OPEN, A.IN_PROGRESS], target=A.WONT_DO, permission=CHANGE_PERMISSION)
    def drop(self) -> None:
        pass

    @transition(field=status, source=[A.DONE, A.WONT_DO], target=A.OPEN, permission=CHANGE_PERMISSION)
    def reopen(self) -> None:
        pass


class ReminderDigest(models.Model):
    """One reminder email per owner per day: the row is written with the send, and its unique
    constraint makes a second send that day impossible, even from two beat runs at once."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="item_digests")
    day = models.DateField()
    items = models.JSONField(default=list)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "owner"]
        constraints = [models.UniqueConstraint(fields=["owner", "day"], name="postmortems_digest_once_a_day")]

    def __str__(self) -> str:
        return f"Digest for {self.owner} on {self.day}"
