from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from actions.choices import RunStatus, StepStatus
from common.actor import Source
from common.models import BaseModel

R = RunStatus
APPROVE_PERMISSION = "actions.approve_actionrun"
RUN_PERMISSION = "actions.run_action"


class ActionRun(ConcurrentTransitionMixin, BaseModel):
    """One execution of an action, from request through approval and scheduling to its result.

    `status` changes only through the transitions below, called by actions.services under a row
    lock. `task_id` names the Celery task allowed to execute it; a task with another id does nothing.
    `snapshot` holds exactly what it executes, fixed at the request: approving it approves that, and
    editing the action afterwards changes nothing about this run. `context` is what the requester
    added to the placeholders' names besides params.* and incident.* (alert.* for an automated
    response), kept as the record of what the snapshot was rendered from; `automated` marks runs
    that automation (an alert rule's response), not a person, asked for; `capture_service` marks
    the state capture of that service taken when the incident opened (the incident's snapshot).
    """

    action = models.ForeignKey("actions.Action", on_delete=models.PROTECT, related_name="runs")
    parameters = models.JSONField(default=dict, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="action_runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requested_action_runs",
    )
    requested_via = models.CharField(max_length=20, choices=Source.choices, default=Source.API)
    requested_label = models.CharField(
        max_length=150, blank=True, help_text="Who asked, for system requests."
    )
    require_approval = models.BooleanField(default=False)
    context = models.JSONField(
        default=dict, blank=True, help_text="Extra template context the run was requested with (alert.*)."
    )
    automated = models.BooleanField(default=False, help_text="Requested by automation, not by a person.")
    capture_service = models.ForeignKey(
        "incidents.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="capture_runs",
        help_text="Set on the state capture run for this service when the incident opened.",
    )
    snapshot = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the run executes, fixed when it was requested (actions.services.snapshot).",
    )
    status = FSMField(
        max_length=20, choices=RunStatus.choices, default=R.PENDING, protected=True, db_index=True
    )

    approval_expires_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decided_action_runs",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    due_at = models.DateTimeField(null=True, blank=True, help_text="When a scheduled run starts.")
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cancelled_action_runs",
    )
    error = models.TextField(blank=True, help_text="Why the run did not succeed.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="actions_run_recent"),
            models.Index(fields=["status", "due_at"], name="actions_run_due"),
        ]
        permissions = [("approve_actionrun", "Can approve or reject action runs")]
        constraints = [
            # One capture per service and incident, however often the capture task is delivered.
            models.UniqueConstraint(
                fields=["incident", "capture_service"],
                condition=models.Q(capture_service__isnull=False),
                name="actions_actionrun_one_capture_per_service",
            )
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} of {self.action}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @transition(field=status, source=R.PENDING, target=R.AWAITING_APPROVAL)
    def request_approval(self) -> None:
        pass

    @transition(field=status, source=R.AWAITING_APPROVAL, target=R.APPROVED, permission=APPROVE_PERMISSION)
    def approve(self) -> None:
        pass

    @transition(field=status, source=R.AWAITING_APPROVAL, target=R.REJECTED, permission=APPROVE_PERMISSION)
    def reject(self) -> None:
        pass

    @transition(field=status, source=R.AWAITING_APPROVAL, target=R.EXPIRED)
    def expire(self) -> None:
        pass

    @transition(field=status, source=[R.PENDING, R.APPROVED], target=R.SCHEDULED)
    def schedule(self) -> None:
        pass

    @transition(field=status, source=R.SCHEDULED, target=R.RUNNING)
    def start(self) -> None:
        pass

    @transition(field=status, source=R.RUNNING, target=R.SUCCEEDED)
    def succeed(self) -> None:
        pass

    @transition(field=status, source=R.RUNNING, target=R.FAILED)
    def fail(self) -> None:
        pass

    @transition(field=status, source=R.RUNNING, target=R.TIMED_OUT)
    def time_out(self) -> None:
        pass

    @transition(
        field=status,
        source=[R.PENDING, R.AWAITING_APPROVAL, R.APPROVED, R.SCHEDULED, R.RUNNING],
        target=R.CANCELLED,
        permission=RUN_PERMISSION,
    )
    def cancel(self) -> None:
        pass

    @transition(field=status, source=R.RUNNING, target=R.ABANDONED)
    def abandon(self) -> None:
        pass


class StepRun(models.Model):
    """One step on one host: attempts, exit code, captured output (capped) and timing."""

    run = models.ForeignKey(ActionRun, on_delete=models.CASCADE, related_name="step_runs")
    step = models.ForeignKey(
        "actions.ActionStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="step_runs"
    )
    step_order = models.PositiveIntegerField()
    step_name = models.CharField(max_length=100)
    provider = models.ForeignKey(
        "actions.Provider", on_delete=models.SET_NULL, null=True, blank=True, related_name="step_runs"
    )
    host = models.CharField(max_length=255, blank=True, help_text="Where it ran, as it was then.")
    command = models.TextField(blank=True, help_text="The rendered command, values quoted.")
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.RUNNING)
    attempts = models.PositiveIntegerField(default=0)
    exit_code = models.IntegerField(null=True, blank=True)
    stdout = models.TextField(blank=True)
    stderr = models.TextField(blank=True)
    stdout_truncated = models.BooleanField(default=False)
    stderr_truncated = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Connection or execution error, if any.")
    # Set by the runner when the command starts, so abandoning the run can kill what a dead worker
    # left running: {"pgid": ..., "start": leader start time in clock ticks, "machine": worker
    # host and boot id (local runs only; over SSH the provider is the place)}.
    process_group = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["run", "step_order", "host", "id"]
        indexes = [models.Index(fields=["run", "step_order"], name="actions_steprun_order")]

    def __str__(self) -> str:
        return f"{self.step_name} on {self.host or '-'}: {self.get_status_display()}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
