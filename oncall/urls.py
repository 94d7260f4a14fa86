"""Pages outside the admin and the API, mounted at /oncall/ (config/urls.py)."""

from django.urls import path

from oncall.views.feeds import feed_ics

app_name = "oncall"

urlpatterns = [
    # The token is the credential; config/logging.py scrubs it from request logs.
    path("feeds/<str:token>.ics", feed_ics, name="feed"),
]
