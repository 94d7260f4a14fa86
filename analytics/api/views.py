"""Thin API views. The metrics are read-only: each view reads the query string through analytics.params
(400 with field errors on bad input) and answers with analytics.selectors' numbers, durations in
seconds. Reports go through analytics.services.reports: CRUD, preview (reads only) and send-now."""

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from analytics.api.serializers import (
    PeakTimesResponseSerializer,
    RecommendationsResponseSerializer,
    ReportInput,
    ReportPreviewSerializer,
    ReportRunSerializer,
    ReportSerializer,
    ReportUpdateInput,
    SeriesResponseSerializer,
    SummaryResponseSerializer,
)
from analytics.charts.svg import relative_change
from analytics.filters import BUCKETS, GROUP_BYS, Filters
from analytics.models import Report
from analytics.params import (
    DEFAULT_RANGE,
    RANGE_CHOICES,
    ROOT_CAUSE_CHOICES,
    AnalyticsParams,
    InvalidParamsError,
    parse,
)
from analytics.services import reports as services
from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, WRITE_ERRORS, validated
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
                "cost_total": relative_change(current["cost"]["total"], previous["cost"]["total"]),
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
                        "cost": float(point.cost.total) if point else 0.0,
                    }
                )
            series.append(
                {
                    "group": _plain(group),
                    "incidents": sum(r["incidents"] for r in rows),
                    "cost": float(sum((p.cost.total for p in points if p.group == group), Decimal(0))),
                    "points": rows,
                }
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


# --- Reports --------------------------------------------------------------------------------------

RUNNING = OpenApiResponse(ErrorSerializer, description="Conflict: the report is being sent for this period.")
DELIVERY_FAILED = OpenApiResponse(
    ErrorSerializer, description="Sending failed (or no recipients): the run is recorded as failed."
)


def _write_arguments(data: dict) -> dict:
    arguments = {"data": {}}
    for key in ("name", "type", "extra_recipients", "enabled"):
        if key in data:
            arguments["data"][key] = data[key]
    if "parameters" in data:
        arguments["data"]["parameters"] = data["parameters"]
    if "recipients" in data:
        arguments["recipient_users"] = data["recipients"]
    if "schedule" in data:
        arguments["schedule"] = data["schedule"]
    return arguments


@extend_schema_view(
    list=extend_schema(summary="List scheduled reports"),
    retrieve=extend_schema(summary="A report with its parameters, recipients and crontab"),
    create=extend_schema(
        summary="Add a report; its schedule (a crontab in TIME_ZONE) defaults to 0 7 1 * *",
        request=ReportInput,
        responses={201: ReportSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a report (its schedule follows)",
        request=ReportUpdateInput,
        responses={200: ReportSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a report with its runs and schedule", responses={204: None, 403: FORBIDDEN}
    ),
)
class ReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = ReportSerializer
    parser_classes = PARSERS
    filter_backends = []
    lookup_value_regex = r"\d+"
    action_permissions = {"preview": ["analytics.view_report"], "send_now": ["analytics.change_report"]}

    def get_queryset(self) -> QuerySet[Report]:
        return selectors.report_list()

    def report_response(self, report: Report, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(ReportSerializer(self.get_queryset().get(pk=report.pk)).data, status=status_code)

    def create(self, request: Request) -> Response:
        data = validated(ReportInput, request)
        report = services.report_save(by=request_actor(request), **_write_arguments(data))
        return self.report_response(report, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        report = self.get_object()
        data = validated(ReportUpdateInput, request)
        report = services.report_save(by=request_actor(request), report=report, **_write_arguments(data))
        return self.report_response(report)

    def perform_destroy(self, instance: Report) -> None:
        services.report_delete(by=request_actor(self.request), report=instance)

    @extend_schema(
        summary="What the email for the current period contains",
        description="The HTML is the email's, with each cid: image reference replaced by the same PNG "
        "as a data: URI; the CSV is the attachment's text.",
        responses={200: ReportPreviewSerializer, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str) -> Response:
        report = self.get_object()
        start, end = services.report_period(report)
        rendered = services.report_render(report, (start, end))
        body = {
            "subject": rendered.subject,
            "html": rendered.html_with_data_uris(),
            "text": rendered.text,
            "csv": rendered.csv_bytes.decode("utf-8"),
            "csv_name": rendered.csv_name,
            "period_start": start,
            "period_end": end,
        }
        return Response(ReportPreviewSerializer(body).data)

    @extend_schema(
        summary="Send the report for its current period now (once per period)",
        description="201 with the run when sent now; 200 with the run when this period was sent already; "
        "409 while another send of the period is in flight; 502 when sending failed (the run records "
        "the error and a later send retries it).",
        request=None,
        responses={
            201: ReportRunSerializer,
            200: ReportRunSerializer,
            403: FORBIDDEN,
            409: RUNNING,
            502: DELIVERY_FAILED,
        },
    )
    @action(detail=True, methods=["post"], url_path="send-now")
    def send_now(self, request: Request, pk: str) -> Response:
        report = self.get_object()
        try:
            run, sent = services.report_send_now(report=report, by=request_actor(request))
        except services.ReportDeliveryError as exc:
            body = {"detail": exc.message, "code": exc.code, "run": ReportRunSerializer(exc.run).data}
            status_code = status.HTTP_400_BAD_REQUEST if exc.code == "no_recipients" else exc.http_status
            return Response(body, status=status_code)
        return Response(
            ReportRunSerializer(run).data, status=status.HTTP_201_CREATED if sent else status.HTTP_200_OK
        )
