"""Pages outside the admin and the API, mounted at /oncall/ (config/urls.py). The feed and ack tokens
are credentials: config/logging.py scrubs them from request logs."""

from django.urls import path

from oncall.views import ack, slack, sms
from oncall.views.feeds import feed_ics

app_name = "oncall"

urlpatterns = [
    path("feeds/<str:token>.ics", feed_ics, name="feed"),
    path("ack/<str:token>/", ack.ack, name="ack"),
    path("slack/interactivity/", slack.interactivity, name="slack-interactivity"),
    path("sms/twilio/", sms.twilio_reply, name="sms-twilio"),
]
