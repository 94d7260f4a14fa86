"""Action runs: what ran where, and the decisions on a run (approve, reject, cancel)."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from actions import selectors, services
from actions.api.filters import ActionRunFilterSet
from actions.api.serializers.runs import ActionRunDetailSerializer, ActionRunSerializer, DecisionInput
from actions.models import ActionRun
from actions.models.run import APPROVE_PERMISSION, RUN_PERMISSION
from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, validated

REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="code transition_not_allowed: not possible from the run's current status; "
    "code conflict: someone changed the run meanwhile (reload and retry).",
)
DECISION_ERRORS = {400: BAD_INPUT, 403: FORBIDDEN, 409: REFUSED}


def decision_schema(request: type[Serializer] | None, summary: str, description: str = ""):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={200: ActionRunDetailSerializer, **DECISION_ERRORS},
    )


@extend_schema_view(
    list=extend_schema(summary="List action runs, newest first"),
    retrieve=extend_schema(summary="A run with what each step did on each host: output, exit code, timing"),
)
class ActionRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = ActionRunFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {
        "approve": [APPROVE_PERMISSION],
        "reject": [APPROVE_PERMISSION],
        "cancel": [RUN_PERMISSION],
    }

    def get_queryset(self) -> QuerySet[ActionRun]:
        if self.action == "list":
            return selectors.action_run_list()
        if self.action == "retrieve":
            return selectors.action_run_detail_queryset()
        return ActionRun.objects.all()

    def get_serializer_class(self) -> type[Serializer]:
        return ActionRunSerializer if self.action == "list" else ActionRunDetailSerializer

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def detail_response(self, run: ActionRun) -> Response:
        run = selectors.action_run_detail_queryset().get(pk=run.pk)
        return Response(ActionRunDetailSerializer(run).data)

    @decision_schema(
        DecisionInput,
        "Approve a run awaiting approval: it is scheduled",
        "Four eyes: the requester cannot approve their own run (403).",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        data = validated(DecisionInput, request)
        return self.detail_response(services.action_run_approve(run=run, by=request_actor(request), **data))

    @decision_schema(DecisionInput, "Reject a run awaiting approval")
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        data = validated(DecisionInput, request)
        return self.detail_response(services.action_run_reject(run=run, by=request_actor(request), **data))

    @decision_schema(
        None,
        "Cancel a run",
        "A run that has not started is cancelled at once; a running one is flagged, and its "
        "executor stops the command and marks the remaining steps cancelled.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        return self.detail_response(services.action_run_cancel(run=run, by=request_actor(request)))
