"""Thin views: every write is one call to oncall.services (acknowledging a page is the incidents'
own `incident_acknowledge` and the escalation's stop, in page_acknowledge), every list a queryset
from oncall.config_selectors. Service validation errors become 400 with field errors, refused
transitions and lost races 409 (common.api.exceptions)."""

from django.db.models import QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from oncall import config_selectors as selectors
from oncall import selectors as shared
from oncall.api.filters import (
    LayerFilterSet,
    OverrideFilterSet,
    PageFilterSet,
    PolicyFilterSet,
    ScheduleFilterSet,
)
from oncall.api.serializers import (
    LayerInput,
    LayerSerializer,
    LayerUpdateInput,
    OnCallQuery,
    OnCallSerializer,
    OverrideInput,
    OverrideSerializer,
    OverrideUpdateInput,
    PageSerializer,
    PolicyInput,
    PolicySerializer,
    PolicyUpdateInput,
    ScheduleInput,
    ScheduleSerializer,
    ScheduleUpdateInput,
    ServicesOnCallSerializer,
    TakeOverInput,
)
from oncall.models import EscalationPolicy, Layer, Override, Page, Schedule
from oncall.services.overrides import override_create, override_delete, override_take_over, override_update
from oncall.services.paging import page_acknowledge
from oncall.services.policies import policy_delete, policy_save
from oncall.services.schedules import LAYER_FIELDS, layer_delete, layer_save, schedule_delete, schedule_save

REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="code transition_not_allowed or conflict: the incident cannot be "
    "acknowledged from its status, or someone else changed it meanwhile.",
)


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Query parameters filter the list only, never the object an action works on."""

    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = r"\d+"

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset


class CrudViewSet(mixins.DestroyModelMixin, ReadViewSet):
    def respond(self, obj, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)


def _crud_schema(thing: str, create_input, update_input, output) -> dict:
    return {
        "list": extend_schema(summary=f"List {thing}s"),
        "retrieve": extend_schema(summary=f"A {thing}"),
        "create": extend_schema(
            summary=f"Add a {thing}", request=create_input, responses={201: output, **WRITE_ERRORS}
        ),
        "partial_update": extend_schema(
            summary=f"Edit a {thing}; what is not sent is kept",
            request=update_input,
            responses={200: output, **WRITE_ERRORS},
        ),
        "destroy": extend_schema(summary=f"Delete a {thing}", responses={204: None, 403: FORBIDDEN}),
    }


# --- Who a page about each service reaches ---


def _people(users) -> list[dict]:
    return [{"id": user.pk, "username": user.get_username()} for user in users]


class ServiceOnCallView(APIView):
    # Who is on call is read off schedules: ModelPermissions asks view_schedule of every method
    # (OPTIONS included), by this queryset's model.
    queryset = Schedule.objects.none()

    @extend_schema(
        summary="Who a page about each service reaches first, at a time (default: now)",
        description="Every service with an escalation policy, by name: its policy's first step's "
        "people and whoever is on call on that step's schedules.",
        parameters=[OpenApiParameter("at", OpenApiTypes.DATETIME, description="ISO 8601; default: now.")],
        responses={200: ServicesOnCallSerializer, 400: BAD_INPUT},
    )
    def get(self, request: Request) -> Response:
        query = OnCallQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        at = query.validated_data.get("at") or timezone.now()
        body = {
            "at": at,
            "services": [
                {
                    "service": row.service.pk,
                    "service_name": row.service.name,
                    "policy": row.policy.pk,
                    "policy_name": row.policy.name,
                    "users": _people(row.users),
                    "schedules": [
                        {"id": schedule.pk, "name": schedule.name, "users": _people(users)}
                        for schedule, users in row.schedules
                    ],
                }
                for row in shared.services_oncall(at=at)
            ],
        }
        return Response(ServicesOnCallSerializer(body).data)


# --- Schedules --------------------------------------------------------------------------------


@extend_schema_view(**_crud_schema("schedule", ScheduleInput, ScheduleUpdateInput, ScheduleSerializer))
class ScheduleViewSet(CrudViewSet):
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilterSet
    # Asking who is on call is a read; taking over a shift is adding an override.
    action_permissions = {"on_call": ["oncall.view_schedule"], "take_over": ["oncall.add_override"]}

    def get_queryset(self) -> QuerySet[Schedule]:
        return shared.schedule_list().order_by("name", "id")

    def create(self, request: Request) -> Response:
        schedule = schedule_save(by=request_actor(request), **validated(ScheduleInput, request))
        return self.respond(schedule, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(ScheduleUpdateInput, request)
        return self.respond(schedule_save(by=request_actor(request), schedule=stored, **data))

    def perform_destroy(self, instance: Schedule) -> None:
        schedule_delete(by=request_actor(self.request), schedule=instance)

    @extend_schema(
        summary="Who is on call on this schedule at a time (default: now)",
        parameters=[OpenApiParameter("at", OpenApiTypes.DATETIME, description="ISO 8601; default: now.")],
        responses={200: OnCallSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["get"], url_path="on-call")
    def on_call(self, request: Request, pk: str) -> Response:
        schedule = self.get_object()
        query = OnCallQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        at = query.validated_data.get("at") or timezone.now()
        users = shared.oncall_at(schedules=[schedule], at=at).get(schedule.pk, [])
        body = {
            "schedule": schedule.pk,
            "at": at,
            "users": [{"id": user.pk, "username": user.get_username()} for user in users],
        }
        return Response(OnCallSerializer(body).data)

    @extend_schema(
        summary="Take over: put yourself on call on this schedule from now",
        description="Until `until`, or by default the end of the current shift (an override).",
        request=TakeOverInput,
        responses={201: OverrideSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="take-over")
    def take_over(self, request: Request, pk: str) -> Response:
        schedule = self.get_object()
        data = validated(TakeOverInput, request)
        override = override_take_over(schedule=schedule, by=request_actor(request), until=data.get("until"))
        fresh = shared.override_list().get(pk=override.pk)
        return Response(OverrideSerializer(fresh).data, status=status.HTTP_201_CREATED)


# --- Layers -----------------------------------------------------------------------------------


@extend_schema_view(**_crud_schema("layer", LayerInput, LayerUpdateInput, LayerSerializer))
class LayerViewSet(CrudViewSet):
    serializer_class = LayerSerializer
    filterset_class = LayerFilterSet

    def get_queryset(self) -> QuerySet[Layer]:
        return selectors.layer_list().order_by("schedule__name", "-level", "id")

    def create(self, request: Request) -> Response:
        data = validated(LayerInput, request)
        schedule, members = data.pop("schedule"), data.pop("members")
        layer = layer_save(by=request_actor(request), schedule=schedule, member_ids=members, **data)
        return self.respond(layer, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(LayerUpdateInput, request)
        members = data.pop("members", [member.user_id for member in stored.members.all()])
        fields = {name: data.get(name, getattr(stored, name)) for name in LAYER_FIELDS}
        layer = layer_save(
            by=request_actor(request), schedule=stored.schedule, layer=stored, member_ids=members, **fields
        )
        return self.respond(layer)

    def perform_destroy(self, instance: Layer) -> None:
        layer_delete(by=request_actor(self.request), layer=instance)


# --- Overrides --------------------------------------------------------------------------------


@extend_schema_view(**_crud_schema("override", OverrideInput, OverrideUpdateInput, OverrideSerializer))
class OverrideViewSet(CrudViewSet):
    serializer_class = OverrideSerializer
    filterset_class = OverrideFilterSet

    def get_queryset(self) -> QuerySet[Override]:
        return shared.override_list().order_by("-starts_at", "-id")

    def create(self, request: Request) -> Response:
        override = override_create(by=request_actor(request), **validated(OverrideInput, request))
        return self.respond(override, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(OverrideUpdateInput, request)
        fields = {
            name: data.get(name, getattr(stored, name))
            for name in ("user", "replaces", "starts_at", "ends_at", "reason")
        }
        return self.respond(override_update(by=request_actor(request), override=stored, **fields))

    def perform_destroy(self, instance: Override) -> None:
        override_delete(by=request_actor(self.request), override=instance)


# --- Escalation policies ----------------------------------------------------------------------


@extend_schema_view(**_crud_schema("escalation policy", PolicyInput, PolicyUpdateInput, PolicySerializer))
class PolicyViewSet(CrudViewSet):
    serializer_class = PolicySerializer
    filterset_class = PolicyFilterSet

    def get_queryset(self) -> QuerySet[EscalationPolicy]:
        return selectors.policy_list_with_links().order_by("name", "id")

    def save(self, request: Request, input_class, policy: EscalationPolicy | None) -> EscalationPolicy:
        data = validated(input_class, request)
        steps = data.pop("steps", None)
        if steps is not None:
            steps = [dict(step) for step in steps]
        return policy_save(by=request_actor(request), policy=policy, steps=steps, **data)

    def create(self, request: Request) -> Response:
        return self.respond(self.save(request, PolicyInput, None), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.respond(self.save(request, PolicyUpdateInput, self.get_object()))

    def perform_destroy(self, instance: EscalationPolicy) -> None:
        policy_delete(by=request_actor(self.request), policy=instance)


# --- Pages ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List pages (an incident's escalation), newest first"),
    retrieve=extend_schema(summary="A page with the steps it ran"),
)
class PageViewSet(ReadViewSet):
    serializer_class = PageSerializer
    filterset_class = PageFilterSet
    # Acknowledging is the incident's transition: incident_acknowledge checks its permission.
    action_permissions = {"acknowledge": ["oncall.view_page"]}

    def get_queryset(self) -> QuerySet[Page]:
        return selectors.page_list_with_steps().order_by("-created_at", "-id")

    @extend_schema(
        summary="Acknowledge the page's incident (stops the escalation)",
        request=None,
        responses={200: PageSerializer, 403: FORBIDDEN, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        page = self.get_object()
        page_acknowledge(page=page, by=request_actor(request))
        return Response(PageSerializer(self.get_queryset().get(pk=page.pk)).data)
