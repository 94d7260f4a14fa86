from common.api.routers import Router
from incidents.api.views import IncidentViewSet, PriorityViewSet, ServiceViewSet

router = Router()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("services", ServiceViewSet, basename="service")
router.register("priorities", PriorityViewSet, basename="priority")

urlpatterns = router.urls
