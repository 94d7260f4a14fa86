from django.urls import path

from common.api.routers import Router
from oncall.api.feeds import CalendarFeedViewSet
from oncall.api.views import (
    LayerViewSet,
    OverrideViewSet,
    PageViewSet,
    PolicyViewSet,
    ScheduleViewSet,
    ServiceOnCallView,
)

# Mounted under api/v1/oncall/; the incidents router serves the API root view.
router = Router()
router.include_root_view = False
router.register("schedules", ScheduleViewSet, basename="oncall-schedule")
router.register("layers", LayerViewSet, basename="oncall-layer")
router.register("overrides", OverrideViewSet, basename="oncall-override")
router.register("escalation-policies", PolicyViewSet, basename="oncall-policy")
router.register("pages", PageViewSet, basename="oncall-page")
router.register("calendar-feeds", CalendarFeedViewSet, basename="oncall-calendar-feed")

urlpatterns = [
    path("services/", ServiceOnCallView.as_view(), name="oncall-services"),
    *router.urls,
]
