from django.urls import path

from common.api.routers import Router
from statuspage.api.subscribers import SubscriberViewSet
from statuspage.api.views import (
    ComponentGroupViewSet,
    ComponentViewSet,
    MaintenanceViewSet,
    PageSettingsView,
    PublicIncidentViewSet,
)

# Mounted under api/v1/statuspage/; the incidents router serves the API root view.
router = Router()
router.include_root_view = False
router.register("components", ComponentViewSet, basename="statuspage-component")
router.register("component-groups", ComponentGroupViewSet, basename="statuspage-group")
router.register("incidents", PublicIncidentViewSet, basename="statuspage-incident")
router.register("maintenance", MaintenanceViewSet, basename="statuspage-maintenance")
router.register("subscribers", SubscriberViewSet, basename="statuspage-subscriber")

urlpatterns = [
    path("settings/", PageSettingsView.as_view(), name="statuspage-settings"),
    *router.urls,
]
