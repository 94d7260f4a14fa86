from alerts.api.views import AlertRuleViewSet, AlertSourceViewSet, AlertViewSet, SilenceViewSet
from common.api.routers import Router

# Mounted under api/v1/ next to incidents.api.urls, whose router serves the API root view.
router = Router()
router.include_root_view = False
router.register("alert-sources", AlertSourceViewSet, basename="alert-source")
router.register("alerts", AlertViewSet, basename="alert")
router.register("alert-rules", AlertRuleViewSet, basename="alert-rule")
router.register("silences", SilenceViewSet, basename="silence")

urlpatterns = router.urls
