"""Thin views: reads come from actions.selectors, every write is one call to actions.services.
Domain errors become {"detail", "code"} responses in common.api.exceptions."""

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from actions import runners, selectors, services
from actions.api.filters import ActionFilterSet, ActionRunFilterSet, ProviderFilterSet, ProviderGroupFilterSet
from actions.api.serializers import (
    ActionCreateInput,
    ActionDetailSerializer,
    ActionRunDetailSerializer,
    ActionRunSerializer,
    ActionSerializer,
    ActionUpdateInput,
    ConnectionTestSerializer,
    DecisionInput,
    HostKeyPinInput,
    HostKeySerializer,
    ProviderCreateInput,
    ProviderGroupCreateInput,
    ProviderGroupSerializer,
    ProviderGroupUpdateInput,
    ProviderSerializer,
    ProviderUpdateInput,
    RunRequestInput,
)
from actions.choices import ProviderKind
from actions.models import Action, ActionRun, ActionStep, Provider, ProviderGroup
from actions.models.run import APPROVE_PERMISSION, RUN_PERMISSION
from actions.services.catalog import SECRET_FIELDS
from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from common.exceptions import ApplicationError

MANAGE_PROVIDERS = ["actions.change_provider"]

REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="code transition_not_allowed: not possible from the run's current status; "
    "code conflict: someone changed the run meanwhile (reload and retry).",
)
IN_USE = OpenApiResponse(ErrorSerializer, description="code in_use: still used by a step or a group.")
HOST_FAILED = OpenApiResponse(
    ErrorSerializer,
    description="The host could not be reached or refused the key exchange; "
    "code unreachable, refused, timeout, error...",
)
DECISION_ERRORS = {400: BAD_INPUT, 403: FORBIDDEN, 409: REFUSED}


class HostError(ApplicationError):
    """The provider's host did not answer as it should: the fault is upstream, not in the request."""

    http_status = status.HTTP_502_BAD_GATEWAY


# --- Providers --------------------------------------------------------------------------------


def provider_queryset() -> QuerySet[Provider]:
    """Providers with whether each secret is set, computed in the database: the list never
    decrypts, or even loads, a secret."""
    flags = {
        f"{field}_set": ExpressionWrapper(~Q(**{field: ""}), output_field=BooleanField())
        for field in SECRET_FIELDS
    }
    return selectors.provider_list().annotate(**flags).defer(*SECRET_FIELDS)


@extend_schema_view(
    list=extend_schema(summary="List providers (hosts); secrets are never shown, only whether set"),
    retrieve=extend_schema(summary="A provider; secrets are never shown, only whether set"),
    create=extend_schema(
        summary="Add a provider: an SSH host, or the worker itself (local, when allowed)",
        request=ProviderCreateInput,
        responses={201: ProviderSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a provider; a secret left out is kept, an empty one is cleared",
        description="Changing the address or port drops the pinned host key.",
        request=ProviderUpdateInput,
        responses={200: ProviderSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a provider no step targets and no group lists",
        responses={204: None, 403: FORBIDDEN, 409: IN_USE},
    ),
)
class ProviderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = ProviderSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProviderFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {
        "connection_test": MANAGE_PROVIDERS,
        "fetch_host_key": MANAGE_PROVIDERS,
        "pin_host_key": MANAGE_PROVIDERS,
    }

    def get_queryset(self) -> QuerySet[Provider]:
        if self.action in ("list", "retrieve"):
            return provider_queryset()
        # Writes and host checks need the secrets, which only services and runners read.
        return selectors.provider_list()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Query parameters filter the list only, never the object an action works on.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def provider_response(self, provider: Provider, status_code: int = status.HTTP_200_OK) -> Response:
        provider = provider_queryset().get(pk=provider.pk)
        return Response(ProviderSerializer(provider).data, status=status_code)

    def create(self, request: Request) -> Response:
        provider = services.provider_save(
            by=request_actor(request), data=validated(ProviderCreateInput, request)
        )
        return self.provider_response(provider, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        provider = self.get_object()
        data = validated(ProviderUpdateInput, request)
        provider = services.provider_save(by=request_actor(request), provider=provider, data=data)
        return self.provider_response(provider)

    def perform_destroy(self, instance: Provider) -> None:
        services.provider_delete(by=request_actor(self.request), provider=instance)

    @extend_schema(
        summary="Connect, authenticate and run `true` on the provider",
        description="Always 200: `ok` says whether it worked, `error` why not.",
        request=None,
        responses={200: ConnectionTestSerializer, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"], url_path="test", url_name="test")
    def connection_test(self, request: Request, pk: str) -> Response:
        ok, latency_ms, error = runners.connection_test(self.get_object())
        body = {"ok": ok, "latency_ms": latency_ms, "error": error}
        return Response(ConnectionTestSerializer(body).data)

    @extend_schema(
        summary="Fetch the key the host presents now, without trusting it",
        description="Trust on first use is a deliberate second step: show the fingerprint to a person, "
        "and pin the key with pin-host-key once they confirmed it. Nothing is stored here.",
        request=None,
        responses={200: HostKeySerializer, 400: BAD_INPUT, 403: FORBIDDEN, 502: HOST_FAILED},
    )
    @action(detail=True, methods=["post"], url_path="fetch-host-key")
    def fetch_host_key(self, request: Request, pk: str) -> Response:
        provider = self.get_object()
        if provider.kind != ProviderKind.SSH:
            raise ApplicationError(f"{provider.name} is not an SSH host: it has no host key.")
        try:
            host_key, fingerprint = runners.host_key_fetch(provider)
        except runners.RunnerError as exc:
            raise HostError(exc.message, code=exc.code) from exc
        return Response(HostKeySerializer({"host_key": host_key, "fingerprint": fingerprint}).data)

    @extend_schema(
        summary="Pin the host key a person confirmed by its fingerprint",
        description="The fingerprint must be the key's, or nothing is pinned (400). From then on the "
        "host must present exactly this key.",
        request=HostKeyPinInput,
        responses={200: ProviderSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="pin-host-key")
    def pin_host_key(self, request: Request, pk: str) -> Response:
        provider = self.get_object()
        data = validated(HostKeyPinInput, request)
        host_key = data["host_key"].strip()
        try:
            fingerprint = runners.host_key_fingerprint(host_key)
        except ValueError as exc:
            raise ValidationError({"host_key": [str(exc)]}) from exc
        if _fingerprint_body(data["fingerprint"]) != _fingerprint_body(fingerprint):
            raise ValidationError(
                {"fingerprint": [f"This key's fingerprint is {fingerprint}: nothing was pinned."]}
            )
        provider = services.provider_host_key_pin(
            by=request_actor(request), provider=provider, host_key=host_key
        )
        return self.provider_response(provider)


def _fingerprint_body(fingerprint: str) -> str:
    """Compare fingerprints as ssh prints them or as pasted: prefix and base64 padding optional."""
    value = fingerprint.strip()
    if value.upper().startswith("SHA256:"):
        value = value[len("SHA256:") :]
    return value.rstrip("=")


@extend_schema_view(
    create=extend_schema(
        summary="Add a provider group",
        request=ProviderGroupCreateInput,
        responses={201: ProviderGroupSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a provider group; `providers`, when sent, replaces the list",
        request=ProviderGroupUpdateInput,
        responses={200: ProviderGroupSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a provider group no step targets",
        responses={204: None, 403: FORBIDDEN, 409: IN_USE},
    ),
)
class ProviderGroupViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = ProviderGroupSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProviderGroupFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ProviderGroup]:
        return selectors.provider_group_list()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def group_response(self, group: ProviderGroup, status_code: int = status.HTTP_200_OK) -> Response:
        group = selectors.provider_group_list().get(pk=group.pk)
        return Response(ProviderGroupSerializer(group).data, status=status_code)

    def save(
        self, request: Request, input_class: type[Serializer], group: ProviderGroup | None
    ) -> ProviderGroup:
        data = validated(input_class, request)
        providers = data.pop("providers", None)
        return services.provider_group_save(
            by=request_actor(request), group=group, data=data, providers=providers
        )

    def create(self, request: Request) -> Response:
        group = self.save(request, ProviderGroupCreateInput, None)
        return self.group_response(group, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        group = self.save(request, ProviderGroupUpdateInput, self.get_object())
        return self.group_response(group)

    def perform_destroy(self, instance: ProviderGroup) -> None:
        services.provider_group_delete(by=request_actor(self.request), group=instance)


# --- Actions ----------------------------------------------------------------------------------


def action_detail_queryset() -> QuerySet[Action]:
    """One action with its statistics, ordered steps and services."""
    steps = ActionStep.objects.select_related("provider", "provider_group").order_by("order", "id")
    return selectors.action_list_with_stats().prefetch_related(Prefetch("steps", queryset=steps), "services")


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
            # Meta.ordering does not apply to an aggregating query: order explicitly.
            return selectors.action_list_with_stats().prefetch_related("services").order_by("name", "id")
        if self.action == "retrieve":
            return action_detail_queryset()
        return Action.objects.all()

    def get_serializer_class(self) -> type[Serializer]:
        return ActionSerializer if self.action == "list" else ActionDetailSerializer

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def detail_response(self, action: Action, status_code: int = status.HTTP_200_OK) -> Response:
        action = action_detail_queryset().get(pk=action.pk)
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


# --- Runs -------------------------------------------------------------------------------------


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
