"""The analytics dashboard's admin URL, mounted at admin/analytics/dashboard/ by config/urls.py ahead
of the admin site's own patterns (admin/analytics/ itself stays the app's index)."""

from django.contrib import admin
from django.urls import path

from analytics.admin.dashboard import dashboard_view

app_name = "analytics_dashboard"
urlpatterns = [path("", admin.site.admin_view(dashboard_view), name="index")]
