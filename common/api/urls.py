from rest_framework.routers import SimpleRouter

from common.api.tokens import ApiTokenViewSet

# Mounted under api/v1/ next to the apps' routers.
router = SimpleRouter()
router.register("tokens", ApiTokenViewSet, basename="apitoken")

urlpatterns = router.urls
