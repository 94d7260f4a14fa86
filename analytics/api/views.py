"""Read-only analytics: each view reads the query string through analytics.params (400 with field
errors on bad input) and answers with analytics.selectors' numbers, durations in seconds."""

from datetime import date

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from analytics.api.serializers import (
    PeakTimesResponseSerializer,
    RecommendationsResponseSerializer,
    SeriesResponseSerializer,
    SummaryResponseSerializer,
)
from analytics.charts import relative_change
from analytics.filters import BUCKETS, GROUP_BYS, Filters
from analytics.params import (
    DEFAULT_RANGE,
    RANGE_CHOICES,
    ROOT_CAUSE_CHOICES,
    AnalyticsParams,
    InvalidParamsError,
    parse,
)
from common.api.views import BAD_INPUT, FORBIDDEN
from incidents.choices import ServiceType

VIEW_PERMISSION = "incidents.view_incident"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

FILTER_PARAMETERS = [
    OpenApiParameter(
        "range",
        str,
        enum=RANGE_CHOICES,
        description=f"The last 7, 30 or 90 days up to now (default {DEFAULT_RANGE}), or custom with start "
        "and end.",
    ),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day, with range=custom."),
    OpenApiParameter(
        "end", OpenApiTypes.DATE, description="Last day (inclusive), with range=custom; 3 years at most."
    ),
    OpenApiParameter("service", str, many=True, description="Service slug; repeat for several."),
    OpenApiParameter("service_type", str, many=True, enum=ServiceType.values, description="Repeatable."),
    OpenApiParameter("team", str, many=True, description="Owner team of a service; repeatable."),
    OpenApiParameter("priority", str, many=True, description="Priority code such as P1; repeatable."),
    OpenApiParameter(
        "root_cause", str, many=True, enum=ROOT_CAUSE_CHOICES, description="Root-cause category; repeatable."
    ),
    OpenApiParameter("include_drills", bool, description="Count drills too (left out by default)."),
]
SERIES_PARAMETERS = [
    *FILTER_PARAMETERS,
    OpenApiParameter(
        "group_by", str, enum=GROUP_BYS, description="Split each period by this (default: none)."
    ),
    OpenApiParameter(
        "bucket",
        str,
        enum=BUCKETS,
        description="Period length (default: day up to 3 months, week up to a year, month beyond).",
    ),
]
READ_ERRORS = {400: BAD_INPUT, 403: FORBIDDEN}


class CanViewIncidents(BasePermission):
    """Analytics are about incidents: whoever may view incidents may see them (the Viewer group)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(VIEW_PERMISSION))


class AnalyticsView(APIView):
    permission_classes = [CanViewIncidents]

    def params(self, request: Request) -> AnalyticsParams:
        try:
            return parse(request.query_params, strict=True, allowed={"format"})
        except InvalidParamsError as exc:
            raise ValidationError(exc.errors) from exc


def period(filters: Filters) -> dict:
    return {"start": filters.start, "end": filters.end}


def _plain(value) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


class SummaryView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_summary",
        summary="Headline metrics, with the previous period's and the change",
        parameters=FILTER_PARAMETERS,
        responses={200: SummaryResponseSerializer, **READ_ERRORS},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        filters = self.params(request).filters
        change = selectors.summary_with_change(filters)
        current, previous = change.current.as_dict(), change.previous.as_dict()

        def clock(name: str, stat: str) -> float | None:
            return relative_change(current[f"{name}_seconds"][stat], previous[f"{name}_seconds"][stat])

        body = {
            "period": period(filters),
            "previous_period": period(filters.previous()),
            "current": current,
            "previous": previous,
            "change": {
                "incidents": relative_change(current["incidents"], previous["incidents"]),
                "per_day": relative_change(current["per_day"], previous["per_day"]),
                "mttd_mean": clock("mttd", "mean"),
                "mtta_mean": clock("mtta", "mean"),
                "mttr_mean": clock("mttr", "mean"),
                "mttr_median": clock("mttr", "median"),
                **{
                    name: relative_change(current[name], previous[name])
                    for name in (
                        "auto_resolution_rate",
                        "repeat_rate",
                        "sla_response_rate",
                        "sla_resolution_rate",
                    )
                },
            },
        }
        return Response(SummaryResponseSerializer(body).data)


class SeriesView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_series",
        summary="Incidents and mean MTTR per period, optionally per group, zero-filled",
        parameters=SERIES_PARAMETERS,
        responses={200: SeriesResponseSerializer, **READ_ERRORS},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        params = self.params(request)
        points = selectors.incident_series(params.filters, bucket=params.bucket, group_by=params.group_by)
        every = selectors.periods(params.filters, params.bucket)
        by_key = {(p.group, p.period): p for p in points}
        groups = sorted({p.group for p in points}, key=str) if params.group_by else [None]
        series = []
        for group in groups:
            rows = []
            for day in every:
                point = by_key.get((group, day))
                mttr = point.mttr_mean if point else None
                rows.append(
                    {
                        "period": day,
                        "incidents": point.incidents if point else 0,
                        "mttr_mean_seconds": round(mttr.total_seconds(), 1) if mttr is not None else None,
                    }
                )
            series.append(
                {"group": _plain(group), "incidents": sum(r["incidents"] for r in rows), "points": rows}
            )
        body = {
            "period": period(params.filters),
            "bucket": params.bucket,
            "group_by": params.group_by,
            "periods": every,
            "series": series,
        }
        return Response(SeriesResponseSerializer(body).data)


class PeakTimesView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_peak_times",
        summary="Detections by day of week and hour of day",
        parameters=FILTER_PARAMETERS,
        responses={200: PeakTimesResponseSerializer, **READ_ERRORS},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        filters = self.params(request).filters
        grid = selectors.peak_times(filters)
        body = {
            "period": period(filters),
            "timezone": timezone.get_current_timezone_name(),
            "days": DAYS,
            "grid": grid,
            "incidents": sum(map(sum, grid)),
        }
        return Response(PeakTimesResponseSerializer(body).data)


class RecommendationsView(AnalyticsView):
    @extend_schema(
        operation_id="analytics_recommendations",
        summary="Advice from rules: repeats, root causes and actions in the range, MTTR over 12 months",
        parameters=FILTER_PARAMETERS,
        responses={200: RecommendationsResponseSerializer, **READ_ERRORS},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        filters = self.params(request).filters
        advice = selectors.recommendations(filters)
        body = {
            "period": period(filters),
            "recommendations": [{"code": r.code, "message": r.message, "details": r.details} for r in advice],
        }
        return Response(RecommendationsResponseSerializer(body).data)
