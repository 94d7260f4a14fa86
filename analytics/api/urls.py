from django.urls import path

from analytics.api.views import PeakTimesView, RecommendationsView, SeriesView, SummaryView

# Mounted under api/v1/ next to the other apps' routers.
urlpatterns = [
    path("analytics/summary/", SummaryView.as_view(), name="analytics-summary"),
    path("analytics/series/", SeriesView.as_view(), name="analytics-series"),
    path("analytics/peak-times/", PeakTimesView.as_view(), name="analytics-peak-times"),
    path("analytics/recommendations/", RecommendationsView.as_view(), name="analytics-recommendations"),
]
