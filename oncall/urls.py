from django.urls import path

from oncall.views import ack, slack, sms

app_name = "oncall"

urlpatterns = [
    path("ack/<str:token>/", ack.ack, name="ack"),
    path("slack/interactivity/", slack.interactivity, name="slack-interactivity"),
    path("sms/twilio/", sms.twilio_reply, name="sms-twilio"),
]
