"""The public status page, under /status/ (config.urls)."""

from django.urls import path

from statuspage.views import feeds, json_api, pages
from statuspage.views import subscribe as subscribe_views

app_name = "statuspage"

urlpatterns: list = [
    # Pages (statuspage.views.pages)
    path("", pages.index, name="index"),
    path("incidents/<int:pk>/", pages.incident, name="incident"),
    path("history/", pages.history, name="history"),
    path("logo/<str:digest>/", pages.logo, name="logo"),
    # Feeds and the Statuspage-compatible JSON (statuspage.views.feeds, statuspage.views.json_api)
    path("history.atom", feeds.feed_atom, name="feed_atom"),
    path("history.rss", feeds.feed_rss, name="feed_rss"),
    path("api/v2/summary.json", json_api.summary, name="json_summary"),
    path("api/v2/status.json", json_api.status, name="json_status"),
    path("api/v2/components.json", json_api.components, name="json_components"),
    path("api/v2/incidents.json", json_api.incidents, name="json_incidents"),
    path("api/v2/incidents/unresolved.json", json_api.incidents_unresolved, name="json_incidents_unresolved"),
    path("api/v2/scheduled-maintenances.json", json_api.maintenances, name="json_maintenances"),
    path(
        "api/v2/scheduled-maintenances/upcoming.json",
        json_api.maintenances_upcoming,
        name="json_maintenances_upcoming",
    ),
    path(
        "api/v2/scheduled-maintenances/active.json",
        json_api.maintenances_active,
        name="json_maintenances_active",
    ),
    # Subscribing (statuspage.views.subscribe)
    path("subscribe/", subscribe_views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", subscribe_views.confirm, name="subscribe-confirm"),
    path("unsubscribe/<str:token>/", subscribe_views.unsubscribe, name="unsubscribe"),
]
