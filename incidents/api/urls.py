from rest_framework.routers import DefaultRouter

from incidents.api.views import IncidentViewSet, PriorityViewSet, ServiceViewSet

router = DefaultRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("services", ServiceViewSet, basename="service")
router.register("priorities", PriorityViewSet, basename="priority")

urlpatterns = router.urls
