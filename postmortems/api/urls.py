from django.urls import path

from common.api.routers import Router
from postmortems.api.views.action_items import ActionItemViewSet
from postmortems.api.views.postmortems import PostmortemViewSet
from postmortems.api.views.related import IncidentRelatedView

# Mounted under api/v1/ next to incidents.api.urls, whose router serves the API root view.
router = Router()
router.include_root_view = False
router.register("postmortems", PostmortemViewSet, basename="postmortem")
router.register("action-items", ActionItemViewSet, basename="action-item")

# The incidents router (included first) has no `related` route, so this path is not shadowed.
urlpatterns = [
    path("incidents/<int:pk>/related/", IncidentRelatedView.as_view(), name="incident-related"),
    *router.urls,
]
