"""Thin views over analytics.services.reports: CRUD, preview (reads only) and send-now."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api_reports.serializers import (
    ReportInput,
    ReportPreviewSerializer,
    ReportRunSerializer,
    ReportSerializer,
    ReportUpdateInput,
)
from analytics.models import Report
from analytics.services import reports as services
from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import FORBIDDEN, PARSERS, WRITE_ERRORS, validated

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
        return (
            Report.objects.select_related("schedule__crontab")
            .prefetch_related("recipients")
            .order_by("name", "id")
        )

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
