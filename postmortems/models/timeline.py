from django.conf import settings
from django.db import models

from postmortems.choices import EntrySource


class TimelineEntry(models.Model):
    """One row of a post-mortem's timeline. Generated rows carry the key of the record they came
    from (`timeline:12`, `alert:5:fired`, `run:9:finished`), so regenerating updates them in place
    and keeps what authors did: pinned, hidden, or a reworded `text`. Author rows have no key."""

    postmortem = models.ForeignKey("postmortems.Postmortem", on_delete=models.CASCADE, related_name="entries")
    source = models.CharField(max_length=20, choices=EntrySource.choices)
    key = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField()
    event = models.TextField(help_text="What happened, as generated.")
    text = models.TextField(blank=True, help_text="An author's wording; shown instead of the event.")
    who = models.CharField(max_length=150, help_text='A person, or "Automated".')
    pinned = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="postmortem_entries",
    )

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "key"],
                condition=~models.Q(key=""),
                name="postmortems_entry_one_per_key",
            )
        ]
        indexes = [models.Index(fields=["postmortem", "occurred_at", "id"], name="postmortems_entry_order")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.shown}"

    @property
    def shown(self) -> str:
        return self.text or self.event
