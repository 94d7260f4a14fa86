from analytics.api_reports.views import ReportViewSet
from common.api.routers import Router

# Mounted under api/v1/ next to incidents.api.urls, whose router serves the API root view.
router = Router()
router.include_root_view = False
router.register("reports", ReportViewSet, basename="report")

urlpatterns = router.urls
