"""What the post-mortem email tests share: the mail settings, the people, the texts, and the steps
that publish or schedule a review and read the .ics back."""

from datetime import timedelta

from django.utils import timezone

from common.actor import Actor, Source
from postmortems.services import postmortem_publish, postmortem_review_schedule

SITE = "https://mitigate.example"


def mail_settings(settings) -> None:
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "Mitigate <mitigate@example.com>"
    settings.POSTMORTEM_STAKEHOLDERS = ["ops-leads@example.com", "Payments-Team@example.com"]
    settings.ACTION_ITEM_DUE_SOON_DAYS = 3


def as_(user) -> Actor:
    return Actor(user=user, source=Source.ADMIN)


SECTIONS = {
    "executive_summary": "Payments failed for 40 minutes after release 42.",
    "root_cause": "A migration locked the payments table.",
    "five_whys": [{"question": "Why did payments fail?", "answer": "The table was locked."}],
    "contributing_factors": "No lock timeout\nDeploy at peak",
    "what_went_well": "Fast rollback",
    "what_could_be_improved": "Canary deploys",
    "lessons_learned": "Test migrations against production-sized data.",
}


EXPECTED_STAKEHOLDERS = [
    "cmd@example.com",  # commander
    "oncall@example.com",  # assignee
    "tech@example.com",  # role holders (the communications lead has no address)
    "scribe@example.com",
    "writer@example.com",  # authors (the commander is one too: once)
    "payments-team@example.com",  # the impacted service's owner
    "ops-leads@example.com",  # POSTMORTEM_STAKEHOLDERS (Payments-Team@ is a duplicate)
]


def review_time(days: int = 2, hour: int = 15):
    base = timezone.now() + timedelta(days=days)
    return base.replace(hour=hour, minute=0, second=0, microsecond=0)


def publish(postmortem, people, capture, *, execute: bool):
    with capture(execute=execute) as callbacks:
        published = postmortem_publish(postmortem=postmortem, by=as_(people["approver"]))
    return published, callbacks


def assert_stakeholders(addresses: list[str]) -> None:
    """Exactly the stakeholders, once each, in the documented order (role holders in any order)."""
    assert len(addresses) == len(EXPECTED_STAKEHOLDERS)
    assert addresses[:2] == EXPECTED_STAKEHOLDERS[:2]
    assert set(addresses[2:4]) == set(EXPECTED_STAKEHOLDERS[2:4])
    assert addresses[4:] == EXPECTED_STAKEHOLDERS[4:]


def calendar_of(message) -> str:
    attachments = [a for a in message.iter_attachments() if a.get_content_type() == "text/calendar"]
    assert len(attachments) == 1
    attachment = attachments[0]
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_param("method") == "REQUEST"
    payload = attachment.get_payload(decode=True)
    return payload.decode("utf-8")


def unfold(text: str) -> list[str]:
    return text.rstrip("\r\n").replace("\r\n ", "").split("\r\n")


def ics_props(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unfold(text):
        name, _, value = line.partition(":")
        found.setdefault(name.split(";", 1)[0], []).append(value)
    return found


def schedule(postmortem, people, capture, at, attendees, *, execute: bool):
    with capture(execute=execute) as callbacks:
        postmortem = postmortem_review_schedule(
            postmortem=postmortem, by=as_(people["writer"]), attendees=attendees, at=at
        )
    return postmortem, callbacks
