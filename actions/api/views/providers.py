"""Providers (hosts) and provider groups; host keys are fetched and pinned in two deliberate steps."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from actions import runners, selectors, services
from actions.api.filters import ProviderFilterSet, ProviderGroupFilterSet
from actions.api.serializers.providers import (
    ConnectionTestSerializer,
    HostKeyPinInput,
    HostKeySerializer,
    ProviderCreateInput,
    ProviderGroupCreateInput,
    ProviderGroupSerializer,
    ProviderGroupUpdateInput,
    ProviderSerializer,
    ProviderUpdateInput,
)
from actions.choices import ProviderKind
from actions.models import Provider, ProviderGroup
from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from common.exceptions import ApplicationError

MANAGE_PROVIDERS = ["actions.change_provider"]

IN_USE = OpenApiResponse(ErrorSerializer, description="code in_use: still used by a step or a group.")
HOST_FAILED = OpenApiResponse(
    ErrorSerializer,
    description="The host could not be reached or refused the key exchange; "
    "code unreachable, refused, timeout, error...",
)


class HostError(ApplicationError):
    """The provider's host did not answer as it should: the fault is upstream, not in the request."""

    http_status = status.HTTP_502_BAD_GATEWAY


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
            return selectors.provider_list_without_secrets()
        # Writes and host checks need the secrets, which only services and runners read.
        return selectors.provider_list()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Query parameters filter the list only, never the object an action works on.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def provider_response(self, provider: Provider, status_code: int = status.HTTP_200_OK) -> Response:
        provider = selectors.provider_list_without_secrets().get(pk=provider.pk)
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
