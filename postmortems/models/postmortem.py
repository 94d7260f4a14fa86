from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from common.models import BaseModel
from postmortems.choices import PostmortemStatus, PublicationEmail

S = PostmortemStatus
CHANGE_PERMISSION = "postmortems.change_postmortem"
PUBLISH_PERMISSION = "postmortems.publish_postmortem"


def default_links() -> list:
    return []


class Postmortem(ConcurrentTransitionMixin, BaseModel):
    """The blameless review of one incident, following the runbook's template. `status` changes only
    through postmortems.services under a row lock; each change is written to the incident's timeline.

    Durations and detection delay are computed from the incident's timestamps, not stored, so they
    follow corrections to the incident."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.PROTECT, related_name="postmortem")
    status = FSMField(max_length=20, choices=S.choices, default=S.DRAFT, protected=True, db_index=True)
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="postmortems", blank=True)
    severity = models.CharField(max_length=10, help_text="The incident's priority when the draft was made.")

    executive_summary = models.TextField(blank=True)
    # Impact
    users_affected = models.CharField(max_length=200, blank=True, help_text="A number or a share.")
    services_impacted = models.ManyToManyField("incidents.Service", related_name="postmortems", blank=True)
    data_loss = models.BooleanField(default=False)
    data_loss_details = models.TextField(blank=True)
    failed_transactions = models.CharField(max_length=200, blank=True)
    financial_impact = models.CharField(max_length=200, blank=True)
    # Detection
    detection = models.TextField(
        blank=True, help_text="How it was noticed; the first alert is shown alongside."
    )
    # Root cause
    root_cause = models.TextField(blank=True, help_text="What happened.")
    five_whys = models.JSONField(
        default=list, blank=True, help_text='Ordered [{"question": ..., "answer": ...}], at most 10.'
    )
    contributing_factors = models.TextField(blank=True, help_text="One per line.")
    # Resolution and learning
    resolution = models.TextField(blank=True)
    what_went_well = models.TextField(blank=True, help_text="One per line.")
    what_could_be_improved = models.TextField(blank=True, help_text="One per line.")
    lessons_learned = models.TextField(blank=True)
    supporting_links = models.JSONField(
        default=default_links, blank=True, help_text='[{"title": ..., "url": ...}]'
    )
    # Review meeting
    review_at = models.DateTimeField(null=True, blank=True)
    review_attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="postmortem_reviews", blank=True
    )
    # The review time the last invitation was sent for: a stale or repeated send finds it equal.
    review_invited_for = models.DateTimeField(null=True, blank=True)
    review_invited_at = models.DateTimeField(null=True, blank=True)
    # The invitation's iCalendar SEQUENCE: each one sent must outrank the last for calendars to apply it.
    review_sequence = models.PositiveIntegerField(default=0)
    # When review_at was last set: an invitation still unsent a while later is the sweeper's.
    review_scheduled_at = models.DateTimeField(null=True, blank=True)
    review_invitation_error = models.TextField(blank=True, help_text="Why the last invitation failed.")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_postmortems",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_to = models.JSONField(default=list, blank=True, help_text="Addresses the publication went to.")
    # The outbox of the publication email: pending from the publishing transaction until a task (or
    # the beat sweeper, when the broker lost the message) sends it, under the row lock, once.
    publication_email = models.CharField(
        max_length=20, choices=PublicationEmail.choices, blank=True, default=PublicationEmail.NOT_DUE
    )
    publication_error = models.TextField(blank=True, help_text="Why the last send failed.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="postmortems_recent")]
        permissions = [("publish_postmortem", "Can publish post-mortems")]

    def __str__(self) -> str:
        return f"Post-mortem of {self.incident}"

    @property
    def review_invitation_pending(self) -> bool:
        """A review time is set and its invitation has not gone out yet."""
        return self.review_at is not None and self.review_invited_for != self.review_at

    @transition(field=status, source=S.DRAFT, target=S.IN_REVIEW, permission=CHANGE_PERMISSION)
    def submit(self) -> None:
        pass

    @transition(field=status, source=S.IN_REVIEW, target=S.DRAFT, permission=CHANGE_PERMISSION)
    def return_to_draft(self) -> None:
        pass

    @transition(field=status, source=S.IN_REVIEW, target=S.PUBLISHED, permission=PUBLISH_PERMISSION)
    def publish(self) -> None:
        pass
