"""Actions: the catalog of remediation procedures, and requests to run one."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from actions import selectors, services
from actions.api.filters import ActionFilterSet
from actions.api.serializers.catalog import (
    ActionCreateInput,
    ActionDetailSerializer,
    ActionSerializer,
    ActionUpdateInput,
)
from actions.api.serializers.runs import ActionRunDetailSerializer, RunRequestInput
from actions.models import Action
from actions.models.run import RUN_PERMISSION
from common.api.actors import request_actor
from common.api.views import PARSERS, WRITE_ERRORS, validated


@extend_schema_view(
    list=extend_schema(summary="List actions with their run statistics"),
    retrieve=extend_schema(summary="An action with its ordered steps and run statistics"),
    create=extend_schema(
        summary="Define an action: parameters and ordered steps",
        description="Errors inside a step are keyed `steps.N.field`, N counting from 1.",
        request=ActionCreateInput,
        responses={201: ActionDetailSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit an action; `steps`, when sent, replaces every step in that order",
        description="Errors inside a step are keyed `steps.N.field`, N counting from 1.",
        request=ActionUpdateInput,
        responses={200: ActionDetailSerializer, **WRITE_ERRORS},
    ),
)
class ActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = ActionFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {"run": [RUN_PERMISSION]}

    def get_queryset(self) -> QuerySet[Action]:
        if self.action == "list":
            return selectors.action_list_with_services()
        if self.action == "retrieve":
            return selectors.action_detail_queryset()
        return Action.objects.all()

    def get_serializer_class(self) -> type[Serializer]:
        return ActionSerializer if self.action == "list" else ActionDetailSerializer

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def detail_response(self, action: Action, status_code: int = status.HTTP_200_OK) -> Response:
        action = selectors.action_detail_queryset().get(pk=action.pk)
        return Response(ActionDetailSerializer(action).data, status=status_code)

    def save(self, request: Request, input_class: type[Serializer], action: Action | None) -> Action:
        data = validated(input_class, request)
        return services.action_save(
            by=request_actor(request),
            action=action,
            steps=data.pop("steps", None),
            services=data.pop("services", None),
            data=data,
        )

    def create(self, request: Request) -> Response:
        return self.detail_response(self.save(request, ActionCreateInput, None), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.detail_response(self.save(request, ActionUpdateInput, self.get_object()))

    @extend_schema(
        summary="Run the action: scheduled at once, or held for an approver",
        description="High-risk actions, and requests with require_approval, wait in awaiting_approval "
        "for another approver. Invalid parameters are 400 with errors keyed `parameters.<name>`.",
        request=RunRequestInput,
        responses={201: ActionRunDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str) -> Response:
        action = self.get_object()
        data = validated(RunRequestInput, request)
        run = services.action_run_request(action=action, by=request_actor(request), **data)
        run = selectors.action_run_detail_queryset().get(pk=run.pk)
        return Response(ActionRunDetailSerializer(run).data, status=status.HTTP_201_CREATED)
