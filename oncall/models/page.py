from django.conf import settings
from django.db import models
from django_fsm import FSMField, transition

from common.models import BaseModel
from oncall.choices import PageMode, PageStatus


class Page(BaseModel):
    """An incident's escalation: its next step, when it is due, and the id of the task scheduled for
    it. A task whose id no longer matches does nothing (stale); the beat sweeper re-sends the
    message of a step overdue by more than its grace (a lost message, a dead worker).

    escalating -> acknowledged | resolved | dismissed | exhausted | notified; notified -> escalating
    (the incident's priority was raised to one that pages)."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.CASCADE, related_name="page")
    policy = models.ForeignKey(
        "oncall.EscalationPolicy", null=True, on_delete=models.SET_NULL, related_name="pages"
    )
    mode = models.CharField(max_length=10, choices=PageMode.choices, default=PageMode.PAGE)
    status = FSMField(
        default=PageStatus.ESCALATING, choices=PageStatus.choices, protected=True, db_index=True
    )
    loop = models.PositiveSmallIntegerField(default=0, help_text="Which pass over the steps (0: the first).")
    position = models.PositiveSmallIntegerField(default=0, help_text="The next step to run.")
    next_step_at = models.DateTimeField(null=True, blank=True, db_index=True)
    task_id = models.CharField(max_length=64, blank=True)
    # For an SMS reply ("ACK 4821"): unique among escalating pages, set when the page opens.
    reply_code = models.CharField(max_length=8, blank=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    end_source = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_step_at"], name="oncall_page_due")]

    def __str__(self) -> str:
        return f"Page for {self.incident_id}"

    @transition(field=status, source=PageStatus.ESCALATING, target=PageStatus.ESCALATING)
    def advance(self) -> None:
        pass

    @transition(field=status, source=PageStatus.ESCALATING, target=PageStatus.ACKNOWLEDGED)
    def acknowledge(self) -> None:
        pass

    @transition(field=status, source=PageStatus.ESCALATING, target=PageStatus.RESOLVED)
    def resolve(self) -> None:
        pass

    @transition(field=status, source=PageStatus.ESCALATING, target=PageStatus.DISMISSED)
    def dismiss(self) -> None:
        pass

    @transition(field=status, source=PageStatus.ESCALATING, target=PageStatus.EXHAUSTED)
    def exhaust(self) -> None:
        pass

    @transition(field=status, source=PageStatus.ESCALATING, target=PageStatus.NOTIFIED)
    def finish_notify(self) -> None:
        pass

    @transition(field=status, source=PageStatus.NOTIFIED, target=PageStatus.ESCALATING)
    def upgrade(self) -> None:
        pass


class PageStep(models.Model):
    """A step that ran: unique per page, pass and position, so two workers never run one twice.
    `ran_at - due_at` is the escalation's delay error (bench/oncall.py)."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="steps")
    loop = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    ran_at = models.DateTimeField()
    notified = models.JSONField(default=list, help_text="Who and what was told, as labels.")

    class Meta:
        ordering = ["page_id", "loop", "position"]
        constraints = [
            models.UniqueConstraint(fields=["page", "loop", "position"], name="%(app_label)s_%(class)s_once"),
        ]

    def __str__(self) -> str:
        return f"{self.page} pass {self.loop + 1} step {self.position + 1}"
