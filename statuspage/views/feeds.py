"""Atom and RSS feeds of the page's incidents and maintenance (/status/history.atom, .rss).

One entry per update, not per incident: feed readers show an entry once, when it first appears, and
rarely notice that an entry they hold has changed. With an entry per update, "identified",
"monitoring" and "resolved" each reach the reader as news; with one entry per incident, the reader
would only ever see the first word on it. Each entry's title names the incident and the update's
status, so the updates of one incident read together."""

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import linebreaks

from statuspage.branding import Branding
from statuspage.choices import Kind
from statuspage.models import PublicUpdate
from statuspage.public_json import incident_path
from statuspage.views.public import public_page

RECENT_UPDATES = 100


class HistoryFeed(Feed):
    """The latest updates of every public incident and maintenance window. Only what was posted to
    the page: the update's status and message, the public title; never who posted it."""

    feed_type = Rss201rev2Feed
    route = "statuspage:feed_rss"

    def __init__(self, page: Branding) -> None:
        super().__init__()
        self.page = page

    def title(self) -> str:
        return f"{self.page.name} status"

    def link(self) -> str:
        return reverse("statuspage:index")

    def feed_url(self) -> str:
        return reverse(self.route)

    def description(self) -> str:
        return f"Incidents and scheduled maintenance on the {self.page.name} status page."

    def author_name(self) -> str:
        return self.page.name

    def items(self) -> QuerySet[PublicUpdate]:
        return PublicUpdate.objects.select_related("public_incident").order_by("-created_at", "-id")[
            :RECENT_UPDATES
        ]

    def item_title(self, update: PublicUpdate) -> str:
        public = update.public_incident
        prefix = "Maintenance: " if public.kind == Kind.MAINTENANCE else ""
        return f"{prefix}{public.title} — {update.get_status_display()}"

    def item_description(self, update: PublicUpdate) -> str:
        # Readers take the description as HTML; the message is plain text, so it is escaped (a
        # "<" in it is shown, never run) and its line breaks kept.
        return linebreaks(update.message, autoescape=True)

    def item_link(self, update: PublicUpdate) -> str:
        # The fragment makes each update's link (and so its RSS guid / Atom id) its own.
        return f"{incident_path(update.public_incident_id)}#update-{update.pk}"

    def item_pubdate(self, update: PublicUpdate):
        return update.created_at

    def item_updateddate(self, update: PublicUpdate):
        return update.updated_at

    def item_categories(self, update: PublicUpdate) -> list[str]:
        return [update.public_incident.get_kind_display(), update.get_status_display()]


class HistoryAtomFeed(HistoryFeed):
    feed_type = Atom1Feed
    route = "statuspage:feed_atom"

    def subtitle(self) -> str:
        return self.description()


@public_page
def feed_rss(request: HttpRequest, page: Branding) -> HttpResponse:
    return HistoryFeed(page)(request)


@public_page
def feed_atom(request: HttpRequest, page: Branding) -> HttpResponse:
    return HistoryAtomFeed(page)(request)
