"""The public status page, under /status/ (config.urls)."""

from django.urls import path

from statuspage.views import pages

app_name = "statuspage"

urlpatterns: list = [
    # Pages (statuspage.views.pages)
    path("", pages.index, name="index"),
    path("incidents/<int:pk>/", pages.incident, name="incident"),
    path("history/", pages.history, name="history"),
    path("logo/<str:digest>/", pages.logo, name="logo"),
    # Feeds and the Statuspage-compatible JSON (statuspage.views.feeds, statuspage.views.json_api)
    # Subscribing (statuspage.views.subscribe)
]
