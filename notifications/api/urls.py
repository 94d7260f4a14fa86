from common.api.routers import Router
from notifications.api.views import (
    ChannelViewSet,
    ContactMethodViewSet,
    DeliveryViewSet,
    RuleViewSet,
    TemplateViewSet,
)

# Mounted under api/v1/notifications/; the incidents router serves the API root view.
router = Router()
router.include_root_view = False
router.register("channels", ChannelViewSet, basename="notification-channel")
router.register("rules", RuleViewSet, basename="notification-rule")
router.register("templates", TemplateViewSet, basename="notification-template")
router.register("deliveries", DeliveryViewSet, basename="notification-delivery")
router.register("contact-methods", ContactMethodViewSet, basename="contact-method")

urlpatterns = router.urls
