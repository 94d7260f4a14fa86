"""The emails post-mortems send: the publication to stakeholders and the review invitation. Each send
runs in a task, under the post-mortem's row lock, and records what it sent in the same transaction,
so a repeated or stale task sends nothing; a failed send rolls back and the task retries."""

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from postmortems.choices import PostmortemStatus
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
    with transaction.atomic():
        postmortem = _locked(postmortem_id)
        if postmortem is None or postmortem.status != PostmortemStatus.PUBLISHED or postmortem.published_to:
            return []
        recipients = postmortem_stakeholders(postmortem)
        if not recipients:
            logger.warning(
                "Post-mortem %s published with no stakeholder addresses to send it to", postmortem.pk
            )
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
        message.send()
        postmortem.published_to = recipients
        postmortem.save(update_fields=["published_to", "updated_at"])
    return recipients


def review_invitation_send(*, postmortem_id: int, at: datetime) -> list[str]:
    """Invite the attendees to the review at `at` with an .ics; nothing if the review has been moved
    since (a later task has the new time) or this time was already sent."""
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
        message.send()
        postmortem.review_invited_for = at
        postmortem.review_invited_at = timezone.now()
        postmortem.review_sequence += 1
        postmortem.save(
            update_fields=["review_invited_for", "review_invited_at", "review_sequence", "updated_at"]
        )
    return attendees
