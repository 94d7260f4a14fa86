from rest_framework.routers import DefaultRouter

from analytics.api_reports.views import ReportViewSet

# Mounted under api/v1/ next to incidents.api.urls, whose router serves the API root view.
router = DefaultRouter()
router.include_root_view = False
router.register("reports", ReportViewSet, basename="report")

urlpatterns = router.urls
