from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common.api.views import not_found
from common.views import healthz, readyz
from observability.views import metrics

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/analytics/dashboard/", include("analytics.admin_dashboard_urls")),
    path("admin/", admin.site.urls),
    path("hooks/", include("alerts.urls")),
    path("oncall/", include("oncall.urls")),
    path("status/", include("statuspage.urls")),
    path("api/v1/", include("incidents.api.urls")),
    path("api/v1/", include("actions.api.urls")),
    path("api/v1/", include("alerts.api.urls")),
    path("api/v1/", include("postmortems.api.urls")),
    path("api/v1/notifications/", include("notifications.api.urls")),
    path("api/v1/oncall/", include("oncall.api.urls")),
    path("api/v1/statuspage/", include("statuspage.api.urls")),
    path("api/v1/", include("analytics.api.urls")),
    path("api/v1/drills/", include("drills.api.urls")),
    path("api/v1/", include("common.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script from ?script instead of inline: the CSP allows no
    # inline script.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    # Last: any other /api/ URL is a JSON 404, never an HTML page.
    re_path(r"^api/", not_found),
]

handler500 = "common.api.views.server_error"
