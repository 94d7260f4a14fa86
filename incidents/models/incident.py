from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from common.models import BaseModel
from incidents.choices import (
    DismissalReason,
    IncidentStatus,
    Phase,
    RootCauseCategory,
    UsersAffected,
)
from incidents.guards import close_refusal
from incidents.models.catalog import Priority, Service

S = IncidentStatus
TRANSITION_PERMISSION = "incidents.transition_incident"


def _nobody(instance: "Incident", user: object) -> bool:
    return False


def _closable(incident: "Incident") -> bool:
    # The guards the apps above register (incidents.guards): a P1/P2 needs its post-mortem.
    return close_refusal(incident) is None


def most_urgent(*codes: str) -> str:
    return min((c for c in codes if c), default="")


class Incident(ConcurrentTransitionMixin, BaseModel):
    """An unplanned interruption being worked, from detection to closure.

    `status` changes only through the transitions below, called by incidents.services under a row
    lock. The `*_due_at` and `*_breached_at` fields are the SLA clock that the beat sweeper reads.
    """

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    priority = models.ForeignKey(Priority, on_delete=models.PROTECT, related_name="incidents")
    services = models.ManyToManyField(Service, related_name="incidents", blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_incidents",
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commanded_incidents",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_incidents",
    )
    status = FSMField(
        max_length=20, choices=IncidentStatus.choices, default=S.NEW, protected=True, db_index=True
    )
    phase = models.CharField(max_length=20, choices=Phase.choices, blank=True)
    root_cause_category = models.CharField(max_length=30, choices=RootCauseCategory.choices, blank=True)

    users_affected = models.CharField(max_length=10, choices=UsersAffected.choices, blank=True)
    services_down = models.PositiveIntegerField(default=0)
    data_at_risk = models.BooleanField(default=False)
    security_issue = models.BooleanField(default=False)
    is_drill = models.BooleanField(default=False, help_text="An exercise, kept out of analytics.")
    bridge_url = models.URLField(
        "bridge URL", blank=True, help_text="The war room: the call or chat where responders meet."
    )

    started_at = models.DateTimeField(help_text="When the impact began.")
    detected_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution_summary = models.TextField(blank=True)
    dismissal_reason = models.CharField(max_length=20, choices=DismissalReason.choices, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    reopen_count = models.PositiveIntegerField(default=0)
    # The most urgent priority code held since the incident was first resolved. Lowering the
    # priority afterwards leaves it, so closing still needs what that priority needs (a P1/P2 its
    # post-mortem); reopening keeps it too: an incident resolved as a P1 was a P1.
    peak_priority = models.CharField(max_length=2, blank=True, editable=False)
    # Resolved by automation (alerts cleared after an automated run) with no human transition;
    # cleared on reopen, so analytics count only fixes that held.
    auto_resolved = models.BooleanField(default=False, db_index=True)
    # An earlier incident of the last 30 days shares a service and an alert name or the root cause
    # with this one (incidents.services.repeats). Kept on the row so analytics count it, not search.
    is_repeat = models.BooleanField(default=False)

    response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    next_update_due_at = models.DateTimeField(null=True, blank=True)
    response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    # The next_update_due_at value already reported overdue, so each missed update counts once.
    update_overdue_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["-detected_at", "-id"], name="incidents_incident_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(started_at__lte=models.F("detected_at")),
                name="%(app_label)s_%(class)s_started_before_detected",
            ),
        ]
        permissions = [
            ("transition_incident", "Can move an incident through its lifecycle"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in (S.NEW, S.IN_PROGRESS, S.ON_HOLD)

    @property
    def closing_priority(self) -> str:
        """The priority code the closing rules apply to: the current one, or the more urgent one
        it held since resolution (codes sort by urgency: P1 < P2 < ... < P5)."""
        return most_urgent(self.priority.code, self.peak_priority)

    # Transitions: only incidents.services call these, inside a transaction with the row locked.

    @transition(field=status, source=S.NEW, target=S.IN_PROGRESS, permission=TRANSITION_PERMISSION)
    def acknowledge(self) -> None:
        pass

    @transition(field=status, source=S.IN_PROGRESS, target=S.ON_HOLD, permission=TRANSITION_PERMISSION)
    def hold(self) -> None:
        pass

    @transition(field=status, source=S.ON_HOLD, target=S.IN_PROGRESS, permission=TRANSITION_PERMISSION)
    def resume(self) -> None:
        pass

    @transition(
        field=status,
        source=[S.IN_PROGRESS, S.ON_HOLD],
        target=S.RESOLVED,
        permission=TRANSITION_PERMISSION,
    )
    def resolve(self) -> None:
        pass

    @transition(field=status, source=S.RESOLVED, target=S.IN_PROGRESS, permission=TRANSITION_PERMISSION)
    def reopen(self) -> None:
        pass

    @transition(
        field=status,
        source=S.RESOLVED,
        target=S.CLOSED,
        permission=TRANSITION_PERMISSION,
        conditions=[_closable],
    )
    def close(self) -> None:
        pass

    @transition(field=status, source=S.NEW, target=S.CLOSED, permission=TRANSITION_PERMISSION)
    def dismiss(self) -> None:
        pass

    # Automation only: no user holds this permission, so it never appears as a button.
    @transition(field=status, source=[S.NEW, S.IN_PROGRESS], target=S.RESOLVED, permission=_nobody)
    def auto_resolve(self) -> None:
        pass


class IncidentSequence(models.Model):
    """The last reference number handed out per year; its row lock serializes numbering."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"
