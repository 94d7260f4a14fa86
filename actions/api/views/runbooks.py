"""Runbooks (CRUD, steps included, each save a kept version) and the services' state captures."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from actions import selectors
from actions.api.serializers.runbooks import (
    RunbookCreateInput,
    RunbookSerializer,
    RunbookUpdateInput,
    RunbookVersionSerializer,
    ServiceCaptureInput,
    ServiceCaptureSerializer,
)
from actions.models import Runbook, ServiceCapture
from actions.services.capture import service_capture_delete, service_capture_save
from actions.services.runbooks import runbook_create, runbook_delete, runbook_update
from common.api.actors import request_actor
from common.api.views import PARSERS, WRITE_ERRORS, validated

STEP_ERRORS = "Errors inside a step are keyed `steps.N.field`, N counting from 1."


@extend_schema_view(
    list=extend_schema(summary="List runbooks with their steps"),
    retrieve=extend_schema(summary="A runbook with its ordered steps"),
    create=extend_schema(
        summary="Write a runbook: Markdown steps, each optionally running an action",
        description=STEP_ERRORS,
        request=RunbookCreateInput,
        responses={201: RunbookSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a runbook; `steps`, when sent, replaces every step. Every edit is a new version",
        description=STEP_ERRORS,
        request=RunbookUpdateInput,
        responses={200: RunbookSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(summary="Delete a runbook and its versions"),
)
class RunbookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    parser_classes = PARSERS
    serializer_class = RunbookSerializer
    lookup_value_regex = r"\d+"
    filterset_fields = ["service"]
    action_permissions = {"versions": ["actions.view_runbookversion"]}

    def get_queryset(self) -> QuerySet[Runbook]:
        return selectors.runbook_list().order_by("title", "id")

    def detail_response(self, runbook: Runbook, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(RunbookSerializer(self.get_queryset().get(pk=runbook.pk)).data, status=status_code)

    def create(self, request: Request) -> Response:
        data = validated(RunbookCreateInput, request)
        runbook = runbook_create(by=request_actor(request), **data)
        return self.detail_response(runbook, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        runbook = self.get_object()
        data = validated(RunbookUpdateInput, request)
        current = {
            "title": runbook.title,
            "service": runbook.service,
            "summary": runbook.summary,
            "steps": [
                {"text": s.text, "action": s.action, "parameters": s.parameters} for s in runbook.steps.all()
            ],
        }
        runbook = runbook_update(by=request_actor(request), runbook=runbook, **{**current, **data})
        return self.detail_response(runbook)

    def perform_destroy(self, instance: Runbook) -> None:
        runbook_delete(by=request_actor(self.request), runbook=instance)

    @extend_schema(
        summary="The runbook's versions, newest first", responses={200: RunbookVersionSerializer(many=True)}
    )
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str) -> Response:
        runbook = self.get_object()
        page = self.paginate_queryset(selectors.runbook_versions(runbook_id=runbook.pk))
        return self.get_paginated_response(RunbookVersionSerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="List the services' state capture actions"),
    retrieve=extend_schema(summary="A service's state capture action"),
    create=extend_schema(
        summary="Set a service's state capture action (replacing its previous one)",
        description="Run on the service's providers when one of its incidents opens. Without `action`, "
        "the action made from the Health check template.",
        request=ServiceCaptureInput,
        responses={201: ServiceCaptureSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(summary="Stop capturing a service's state"),
)
class ServiceCaptureViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    parser_classes = PARSERS
    serializer_class = ServiceCaptureSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ServiceCapture]:
        return ServiceCapture.objects.select_related("service", "action").order_by("service__name", "id")

    def create(self, request: Request) -> Response:
        data = validated(ServiceCaptureInput, request)
        capture = service_capture_save(by=request_actor(request), **data)
        capture = self.get_queryset().get(pk=capture.pk)
        return Response(ServiceCaptureSerializer(capture).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ServiceCapture) -> None:
        service_capture_delete(by=request_actor(self.request), capture=instance)
