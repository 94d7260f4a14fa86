from rest_framework.routers import DefaultRouter

from alerts.api.views import AlertRuleViewSet, AlertSourceViewSet, AlertViewSet, SilenceViewSet

# Mounted under api/v1/ next to incidents.api.urls, whose router serves the API root view.
router = DefaultRouter()
router.include_root_view = False
router.register("alert-sources", AlertSourceViewSet, basename="alert-source")
router.register("alerts", AlertViewSet, basename="alert")
router.register("alert-rules", AlertRuleViewSet, basename="alert-rule")
router.register("silences", SilenceViewSet, basename="silence")

urlpatterns = router.urls
