from django.urls import path

from alerts.views import webhook

app_name = "alerts"

urlpatterns = [
    # One path for both styles: `key` is a token, or a slug when a bearer token comes with it.
    path("<str:key>/", webhook, name="webhook"),
]
