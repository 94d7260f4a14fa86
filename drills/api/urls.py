from common.api.routers import Router
from drills.api.views import ReportViewSet, RunViewSet, ScenarioViewSet

# Mounted under api/v1/drills/; the API root view is incidents.api.urls'.
router = Router()
router.include_root_view = False
router.register("scenarios", ScenarioViewSet, basename="drill-scenario")
router.register("runs", RunViewSet, basename="drill-run")
router.register("reports", ReportViewSet, basename="drill-report")

urlpatterns = router.urls
