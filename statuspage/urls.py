"""The public status page, under /status/ (config.urls)."""

from django.urls import path

from statuspage.views import pages
from statuspage.views import subscribe as subscribe_views

app_name = "statuspage"

urlpatterns: list = [
    # Pages (statuspage.views.pages)
    path("", pages.index, name="index"),
    # Feeds and the Statuspage-compatible JSON (statuspage.views.feeds, statuspage.views.json_api)
    # Subscribing (statuspage.views.subscribe)
    path("subscribe/", subscribe_views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", subscribe_views.confirm, name="subscribe-confirm"),
    path("unsubscribe/<str:token>/", subscribe_views.unsubscribe, name="unsubscribe"),
]
