"""The calendar feed: the token in the URL is the credential (calendar apps send no login)."""

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.http import require_safe

from oncall.ics import calendar
from oncall.selectors import calendar_feed_by_token, calendar_feed_events


@require_safe
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar_feed_by_token(token=token)
    if feed is None:
        # Unknown and revoked look the same, and say nothing.
        return HttpResponseNotFound(b"", content_type="text/plain")
    now = timezone.now()
    name, events = calendar_feed_events(feed=feed, now=now)
    response = HttpResponse(
        calendar(name=name, events=events, stamp=now), content_type="text/calendar; charset=utf-8"
    )
    # The URL is a secret: no shared caches, and no Referer carrying it anywhere.
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
