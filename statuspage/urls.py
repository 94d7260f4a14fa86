"""The public status page, under /status/ (config.urls)."""

from django.urls import path

from statuspage.views import pages

app_name = "statuspage"

urlpatterns: list = [
    # Pages (statuspage.views.pages)
    path("", pages.index, name="index"),
    # Feeds and the Statuspage-compatible JSON (statuspage.views.feeds, statuspage.views.json_api)
    # Subscribing (statuspage.views.subscribe)
]
