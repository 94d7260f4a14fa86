"""The emails post-mortems send: the publication to stakeholders and the review invitation.

The row is the outbox: publishing marks the publication email pending, scheduling the review sets a
review time not yet invited for. After commit a task is asked to send (common.tasks); if the broker
cannot take the message, the user's change is still committed and answered normally, the message
waits in the common outbox, and the beat sweeper sends what is due. Each send runs under the
post-mortem's row lock and records what it sent in the same transaction, so a repeated task, a stale
one or the sweeper sends nothing twice. A failed send records its error on the row and raises, so
the task retries with backoff."""

import logging
from datetime import datetime, timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from postmortems.choices import PostmortemStatus, PublicationEmail
from postmortems.ics import review_invitation
from postmortems.markdown import postmortem_markdown
from postmortems.models import Postmortem
from postmortems.selectors import postmortem_stakeholders

logger = logging.getLogger(__name__)


def one_line(text: str) -> str:
    """A header value: a line break in a title would make Django refuse the whole message."""
    return " ".join(text.split())


def postmortem_url(postmortem: Postmortem) -> str:
    return settings.SITE_URL + reverse("admin:postmortems_postmortem_change", args=[postmortem.pk])


# The task gets this long to send before the sweeper treats the email as lost.
SWEEP_GRACE = timedelta(minutes=2)
# Older than this, a publication still unsent stays pending for a person to look at: mailing a week-
# old publication out of the blue (after a long outage, or rows from before the outbox) would confuse.
SWEEP_HORIZON = timedelta(days=7)
SWEEP_BATCH = 100


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _locked(postmortem_id: int) -> Postmortem | None:
    return (
        Postmortem.objects.select_for_update(of=("self",))
        .select_related("incident__priority", "incident__commander", "incident__assignee")
        .filter(pk=postmortem_id)
        .first()
    )


def postmortem_publication_send(*, postmortem_id: int) -> list[str]:
    """Email a published post-mortem (Markdown in the body and attached) to its stakeholders, once.
    Returns the addresses it went to; empty when there was nothing to send."""
    failed: BaseException | None = None
    with transaction.atomic():
        postmortem = _locked(postmortem_id)
        if (
            postmortem is None
            or postmortem.status != PostmortemStatus.PUBLISHED
            or postmortem.publication_email != PublicationEmail.PENDING
        ):
            return []
        recipients = postmortem_stakeholders(postmortem)
        if not recipients:
            logger.warning(
                "Post-mortem %s published with no stakeholder addresses to send it to", postmortem.pk
            )
            postmortem.publication_email = PublicationEmail.NO_RECIPIENTS
            postmortem.save(update_fields=["publication_email", "updated_at"])
            return []
        incident = postmortem.incident
        markdown = postmortem_markdown(postmortem)
        message = EmailMessage(
            subject=one_line(
                f"[{postmortem.severity}] Post-mortem published: {incident.reference} {incident.title}"
            ),
            body=f"{markdown}\n---\nOnline: {postmortem_url(postmortem)}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
        )
        message.attach(f"{incident.reference}-postmortem.md", markdown, "text/markdown")
        try:
            message.send()
        except (SMTPException, OSError) as exc:
            failed = exc
            postmortem.publication_error = _failure(exc)
            postmortem.save(update_fields=["publication_error", "updated_at"])
        else:
            postmortem.published_to = recipients
            postmortem.publication_email = PublicationEmail.SENT
            postmortem.publication_error = ""
            postmortem.save(
                update_fields=["published_to", "publication_email", "publication_error", "updated_at"]
            )
    if failed is not None:
        raise failed  # Still pending, with its error: the task retries, the sweeper too.
    return recipients


def review_invitation_send(*, postmortem_id: int, at: datetime) -> list[str]:
    """Invite the attendees to the review at `at` with an .ics; nothing if the review has been moved
    since (a later task has the new time) or this time was already sent."""
    failed: BaseException | None = None
    with transaction.atomic():
        postmortem = _locked(postmortem_id)
        if postmortem is None or postmortem.review_at != at or postmortem.review_invited_for == at:
            return []
        attendees = [u.email for u in postmortem.review_attendees.all() if u.email]
        if not attendees:
            return []
        incident = postmortem.incident
        when = timezone.localtime(at)
        summary = f"Post-mortem review: {incident.reference} {incident.title}"
        url = postmortem_url(postmortem)
        organizer = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">").strip()
        calendar = review_invitation(
            uid=f"postmortem-review-{postmortem.pk}@mitigate",
            start=at,
            summary=summary,
            description=f"Blameless review of {incident.reference}. Read the draft first: {url}",
            organizer=organizer,
            attendees=attendees,
            url=url,
            sequence=postmortem.review_sequence + 1,
        )
        message = EmailMessage(
            subject=one_line(f"Invitation: {summary} on {when:%a %d %b %Y %H:%M %Z}"),
            body=(
                f"You are invited to the post-mortem review of {incident.reference} ({incident.title}) "
                f"on {when:%A %d %B %Y at %H:%M %Z}.\n\n"
                f"Please read the post-mortem before the meeting:\n{url}\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=attendees,
        )
        message.attach("invite.ics", calendar, "text/calendar; method=REQUEST")
        try:
            message.send()
        except (SMTPException, OSError) as exc:
            failed = exc
            postmortem.review_invitation_error = _failure(exc)
            postmortem.save(update_fields=["review_invitation_error", "updated_at"])
        else:
            postmortem.review_invited_for = at
            postmortem.review_invited_at = timezone.now()
            postmortem.review_sequence += 1
            postmortem.review_invitation_error = ""
            postmortem.save(
                update_fields=[
                    "review_invited_for",
                    "review_invited_at",
                    "review_sequence",
                    "review_invitation_error",
                    "updated_at",
                ]
            )
    if failed is not None:
        raise failed
    return attendees


def postmortem_emails_sweep(*, now: datetime | None = None) -> int:
    """Beat: send the publication emails and review invitations whose task message was lost (the
    broker was down when they were committed, or a worker died) or whose send keeps failing. Fresh
    ones are left to their task for SWEEP_GRACE. Returns how many emails went out."""
    now = now or timezone.now()
    cutoff = now - SWEEP_GRACE
    sent = 0
    publications = (
        Postmortem.objects.filter(
            status=PostmortemStatus.PUBLISHED,
            publication_email=PublicationEmail.PENDING,
            published_at__lte=cutoff,
            published_at__gte=now - SWEEP_HORIZON,
        )
        .order_by("published_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for postmortem_id in list(publications):
        try:
            sent += bool(postmortem_publication_send(postmortem_id=postmortem_id))
        except (SMTPException, OSError):
            logger.warning(
                "Publication of post-mortem %s failed; retried next sweep", postmortem_id, exc_info=True
            )
    # An invitation to a meeting already held is no use: only reviews still ahead are swept.
    invitations = (
        Postmortem.objects.filter(review_at__gt=now, review_scheduled_at__lte=cutoff)
        .exclude(review_invited_for=F("review_at"))
        .order_by("review_at", "id")
        .values_list("pk", "review_at")[:SWEEP_BATCH]
    )
    for postmortem_id, at in list(invitations):
        try:
            sent += bool(review_invitation_send(postmortem_id=postmortem_id, at=at))
        except (SMTPException, OSError):
            logger.warning(
                "Review invitation of post-mortem %s failed; retried next sweep", postmortem_id, exc_info=True
            )
    return sent
