"""Calendar feeds: a secret URL per feed. Only the SHA-256 of the token is stored; the token (and so
the URL) is shown once, when the feed is created."""

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from common.exceptions import ConflictError, PermissionDeniedError
from oncall.models import CalendarFeed, Schedule
from oncall.selectors import calendar_feed_digest

TOKEN_PREFIX_LENGTH = 8


def calendar_feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("oncall:feed", args=[token])


def calendar_feed_create(
    *, owner: AbstractBaseUser, schedule: Schedule | None = None
) -> tuple[CalendarFeed, str]:
    """A new feed of `schedule`'s final shifts (or, without one, of the owner's shifts on every
    schedule) and its token, which is never stored and cannot be shown again. A schedule's feed
    names whoever is on it, so its owner must be allowed to see schedules."""
    if schedule is not None and not owner.has_perm("oncall.view_schedule"):
        raise PermissionDeniedError("You may not see this schedule.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            owner=owner,
            schedule=schedule,
            token_hash=calendar_feed_digest(token),
            token_prefix=token[:TOKEN_PREFIX_LENGTH],
        )
    return feed, token


def calendar_feed_revoke(*, feed: CalendarFeed, by: AbstractBaseUser) -> CalendarFeed:
    """Stop the feed's URL from working at once; the row stays. Only its owner (or a superuser)
    revokes a feed."""
    if feed.owner_id != by.pk and not by.is_superuser:
        raise PermissionDeniedError("Only the feed's owner can revoke it.")
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        if feed.revoked_at is not None:
            raise ConflictError("This feed is already revoked.")
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at", "updated_at"])
    return feed
