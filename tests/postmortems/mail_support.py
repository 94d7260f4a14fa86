"""What the post-mortem email tests share: the mail settings, the people and the texts."""

from datetime import timedelta

from django.utils import timezone

from common.actor import Actor, Source

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
