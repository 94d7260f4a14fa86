from datetime import datetime
from smtplib import SMTPException

from celery import shared_task

from postmortems.services import (
    action_item_reminders_send,
    postmortem_draft_for_resolved,
    postmortem_drafts_sweep,
    postmortem_emails_sweep,
    postmortem_publication_send,
    review_invitation_send,
)

# Mail servers have bad minutes: retry with backoff; each send is idempotent (see services.emails).
MAIL_RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": 30, "max_retries": 6}


@shared_task(acks_late=True)
def create_postmortem_draft(*, incident_id: int) -> bool:
    """A P1/P2 incident resolved: draft its post-mortem (nothing if it has one)."""
    return postmortem_draft_for_resolved(incident_id=incident_id) is not None


@shared_task(acks_late=True, **MAIL_RETRY)
def send_postmortem_publication(*, postmortem_id: int) -> int:
    return len(postmortem_publication_send(postmortem_id=postmortem_id))


@shared_task(acks_late=True, **MAIL_RETRY)
def send_review_invitation(*, postmortem_id: int, at: str) -> int:
    return len(review_invitation_send(postmortem_id=postmortem_id, at=datetime.fromisoformat(at)))


@shared_task(acks_late=True)
def send_action_item_reminders() -> int:
    """Beat, daily: one digest per owner of overdue and due-soon items (never twice a day)."""
    return action_item_reminders_send()


@shared_task(acks_late=True)
def sweep_postmortem_drafts() -> int:
    """Beat: drafts for resolved P1/P2 incidents whose draft message was lost."""
    return postmortem_drafts_sweep()


@shared_task(acks_late=True)
def sweep_postmortem_emails() -> int:
    """Beat: publication emails and review invitations whose message was lost (broker down)."""
    return postmortem_emails_sweep()
