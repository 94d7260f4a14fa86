from rest_framework.routers import DefaultRouter

from actions.api.views import ActionRunViewSet, ActionViewSet, ProviderGroupViewSet, ProviderViewSet

# Mounted under api/v1/ next to incidents.api.urls, whose router serves the API root view.
router = DefaultRouter()
router.include_root_view = False
router.register("providers", ProviderViewSet, basename="provider")
router.register("provider-groups", ProviderGroupViewSet, basename="provider-group")
router.register("actions", ActionViewSet, basename="action")
router.register("action-runs", ActionRunViewSet, basename="action-run")

urlpatterns = router.urls
