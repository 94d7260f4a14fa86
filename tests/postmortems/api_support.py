"""Helpers for the post-mortems REST API tests: the sections a post-mortem needs for review, and
an action item's body."""

from datetime import timedelta

from django.utils import timezone

SECTIONS = {"executive_summary": "Checkout failed for 40 minutes.", "root_cause": "A bad deploy."}


def item_data(owner, **kwargs) -> dict:
    return {
        "description": "Alert on 5xx rate",
        "kind": "monitoring",
        "owner": owner,
        "due_date": timezone.localdate() + timedelta(days=7),
        **kwargs,
    }
