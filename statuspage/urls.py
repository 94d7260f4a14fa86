"""The public status page, under /status/ (config.urls)."""

app_name = "statuspage"

urlpatterns: list = [
    # Pages (statuspage.views.pages)
    # Feeds and the Statuspage-compatible JSON (statuspage.views.feeds, statuspage.views.json_api)
    # Subscribing (statuspage.views.subscribe)
]
