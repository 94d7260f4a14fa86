from django.urls import path

from analytics.api.rates import HourlyRateViewSet, IncidentCostView
from analytics.api.views import PeakTimesView, RecommendationsView, ReportViewSet, SeriesView, SummaryView
from common.api.routers import Router

# Mounted under api/v1/ next to incidents.api.urls, whose router serves the API root view.
router = Router()
router.include_root_view = False
router.register("reports", ReportViewSet, basename="report")
router.register("analytics/hourly-rates", HourlyRateViewSet, basename="hourly-rate")

urlpatterns = [
    path("analytics/summary/", SummaryView.as_view(), name="analytics-summary"),
    path("analytics/series/", SeriesView.as_view(), name="analytics-series"),
    path("analytics/peak-times/", PeakTimesView.as_view(), name="analytics-peak-times"),
    path("analytics/recommendations/", RecommendationsView.as_view(), name="analytics-recommendations"),
    path(
        "analytics/incidents/<int:incident_id>/cost/",
        IncidentCostView.as_view(),
        name="analytics-incident-cost",
    ),
    *router.urls,
]
