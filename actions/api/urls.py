from actions.api.views.catalog import ActionViewSet
from actions.api.views.providers import ProviderGroupViewSet, ProviderViewSet
from actions.api.views.runbooks import RunbookViewSet, ServiceCaptureViewSet
from actions.api.views.runs import ActionRunViewSet
from common.api.routers import Router

# Mounted under api/v1/ next to incidents.api.urls, whose router serves the API root view.
router = Router()
router.include_root_view = False
router.register("providers", ProviderViewSet, basename="provider")
router.register("provider-groups", ProviderGroupViewSet, basename="provider-group")
router.register("actions", ActionViewSet, basename="action")
router.register("action-runs", ActionRunViewSet, basename="action-run")
router.register("runbooks", RunbookViewSet, basename="runbook")
router.register("service-captures", ServiceCaptureViewSet, basename="service-capture")

urlpatterns = router.urls
