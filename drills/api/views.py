"""Thin API views over drills.services: scenarios (CRUD), runs (start, cancel) and reports (edit,
Markdown export)."""

from django.db.models import QuerySet
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from drills.api.filters import DrillRunFilterSet
from drills.api.serializers import (
    DrillReportInput,
    DrillReportListSerializer,
    DrillReportSerializer,
    DrillRunCancelInput,
    DrillRunSerializer,
    DrillRunStartInput,
    DrillScenarioInput,
    DrillScenarioSerializer,
    DrillScenarioUpdateInput,
)
from drills.markdown import report_filename, report_markdown
from drills.models import DrillReport, DrillRun, DrillScenario
from drills.selectors import drill_report_list, drill_run_list, drill_scenario_list
from drills.services import (
    drill_report_update,
    drill_run_cancel,
    drill_run_start,
    drill_scenario_delete,
    drill_scenario_save,
)

REFUSED = OpenApiResponse(ErrorSerializer, description="The drill is not running (anymore).")


def _scenario_arguments(data: dict) -> dict:
    services = data.pop("services", None)
    return {"data": data, "services": services}


class ScenarioViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = DrillScenarioSerializer
    parser_classes = PARSERS
    filter_backends = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[DrillScenario]:
        return drill_scenario_list()

    def _answer(self, scenario: DrillScenario, code: int = status.HTTP_200_OK) -> Response:
        return Response(DrillScenarioSerializer(self.get_queryset().get(pk=scenario.pk)).data, status=code)

    @extend_schema(request=DrillScenarioInput, responses={201: DrillScenarioSerializer, **WRITE_ERRORS})
    def create(self, request: Request) -> Response:
        data = validated(DrillScenarioInput, request)
        scenario = drill_scenario_save(by=request_actor(request), **_scenario_arguments(data))
        return self._answer(scenario, status.HTTP_201_CREATED)

    @extend_schema(request=DrillScenarioUpdateInput, responses={200: DrillScenarioSerializer, **WRITE_ERRORS})
    def partial_update(self, request: Request, pk: str) -> Response:
        scenario = self.get_object()
        data = validated(DrillScenarioUpdateInput, request)
        scenario = drill_scenario_save(
            by=request_actor(request), scenario=scenario, **_scenario_arguments(data)
        )
        return self._answer(scenario)

    def perform_destroy(self, instance: DrillScenario) -> None:
        drill_scenario_delete(by=request_actor(self.request), scenario=instance)


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DrillRunSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = DrillRunFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {"start": ["drills.add_drillrun"], "cancel": ["drills.change_drillrun"]}

    def get_queryset(self) -> QuerySet[DrillRun]:
        return drill_run_list().prefetch_related("participants")

    def _answer(self, run: DrillRun, code: int = status.HTTP_200_OK) -> Response:
        return Response(DrillRunSerializer(self.get_queryset().get(pk=run.pk)).data, status=code)

    @extend_schema(
        summary="Start a drill of a scenario",
        description="Direct mode opens the drill incident at once; synthetic mode posts the scenario's "
        "alert through its drill source (the incident opens when the alert is processed).",
        request=DrillRunStartInput,
        responses={201: DrillRunSerializer, **WRITE_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def start(self, request: Request) -> Response:
        data = validated(DrillRunStartInput, request)
        run = drill_run_start(
            scenario=data["scenario"], by=request_actor(request), participants=data["participants"]
        )
        return self._answer(run, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a running drill (its cleanup action still runs, once)",
        request=DrillRunCancelInput,
        responses={200: DrillRunSerializer, 403: FORBIDDEN, 400: WRITE_ERRORS[400], 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        data = validated(DrillRunCancelInput, request)
        run = drill_run_cancel(run=run, by=request_actor(request), reason=data["reason"])
        return self._answer(run)


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DrillReportSerializer
    parser_classes = PARSERS
    filter_backends = []
    lookup_value_regex = r"\d+"
    action_permissions = {"export": ["drills.view_drillreport"]}

    def get_queryset(self) -> QuerySet[DrillReport]:
        return drill_report_list()

    def get_serializer_class(self):
        return DrillReportListSerializer if self.action == "list" else DrillReportSerializer

    @extend_schema(request=DrillReportInput, responses={200: DrillReportSerializer, **WRITE_ERRORS})
    def partial_update(self, request: Request, pk: str) -> Response:
        report = self.get_object()
        data = validated(DrillReportInput, request)
        drill_report_update(by=request_actor(request), report=report, data=data)
        return Response(DrillReportSerializer(self.get_queryset().get(pk=report.pk)).data)

    @extend_schema(
        summary="The report as Markdown",
        responses={(200, "text/markdown"): OpenApiTypes.STR, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str) -> HttpResponse:
        report = self.get_object()
        response = HttpResponse(report_markdown(report), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(report)}"'
        return response
