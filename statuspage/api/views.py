"""Thin views for tooling: every write is one call to statuspage.services, every list one queryset
with its related rows fetched up front. Service validation errors become 400 with field errors; an
update a finished maintenance cannot take, 409 (common.api.exceptions)."""

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from statuspage.api import serializers as s
from statuspage.api.filters import ComponentFilterSet, PublicIncidentFilterSet
from statuspage.branding import page_settings
from statuspage.choices import Kind
from statuspage.models import AffectedComponent, Component, ComponentGroup, PageSettings, PublicIncident
from statuspage.services.catalog import (
    component_delete,
    component_group_delete,
    component_group_save,
    component_save,
    page_settings_save,
)
from statuspage.services.components import component_status_set
from statuspage.services.public_incidents import (
    maintenance_schedule,
    public_incident_edit,
    public_incident_open,
    public_update_post,
)

REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="code transition_not_allowed: a completed maintenance takes no update, or the "
    "Mitigate incident already has a public incident.",
)


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    parser_classes = PARSERS
    lookup_value_regex = r"\d+"

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

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


# --- Components and groups --------------------------------------------------------------------


@extend_schema_view(
    **_crud_schema(
        "component group", s.ComponentGroupInput, s.ComponentGroupUpdateInput, s.ComponentGroupSerializer
    )
)
class ComponentGroupViewSet(mixins.DestroyModelMixin, ReadViewSet):
    serializer_class = s.ComponentGroupSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[ComponentGroup]:
        return ComponentGroup.objects.order_by("order", "name", "id")

    def create(self, request: Request) -> Response:
        group = component_group_save(by=request_actor(request), **validated(s.ComponentGroupInput, request))
        return self.respond(group, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(s.ComponentGroupUpdateInput, request)
        return self.respond(component_group_save(by=request_actor(request), group=stored, **data))

    def perform_destroy(self, instance: ComponentGroup) -> None:
        component_group_delete(by=request_actor(self.request), group=instance)


@extend_schema_view(
    **_crud_schema("component", s.ComponentInput, s.ComponentUpdateInput, s.ComponentSerializer)
)
class ComponentViewSet(mixins.DestroyModelMixin, ReadViewSet):
    serializer_class = s.ComponentSerializer
    filterset_class = ComponentFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Component]:
        return Component.objects.prefetch_related("services").order_by("order", "name", "id")

    def create(self, request: Request) -> Response:
        component = component_save(by=request_actor(request), **validated(s.ComponentInput, request))
        return self.respond(component, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        """Fields through component_save, a status through component_status_set: both or neither."""
        stored = self.get_object()
        data = validated(s.ComponentUpdateInput, request)
        new_status = data.pop("status", None)
        by = request_actor(request)
        with transaction.atomic():
            if data:
                stored = component_save(by=by, component=stored, **data)
            if new_status is not None:
                stored = component_status_set(component=stored, status=new_status, by=by)
        return self.respond(stored)

    def perform_destroy(self, instance: Component) -> None:
        component_delete(by=request_actor(self.request), component=instance)


# --- Public incidents and maintenance ---------------------------------------------------------


def public_incident_list() -> QuerySet[PublicIncident]:
    return PublicIncident.objects.prefetch_related(
        Prefetch("affected", queryset=AffectedComponent.objects.select_related("component")), "updates"
    ).order_by("-started_at", "-id")


@extend_schema_view(
    list=extend_schema(summary="List public incidents and maintenance windows, newest first"),
    retrieve=extend_schema(summary="A public incident or maintenance window, with its updates"),
    create=extend_schema(
        summary="Open a public incident with its first update",
        request=s.PublicIncidentInput,
        responses={201: s.PublicIncidentSerializer, 409: REFUSED, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Correct the title or impact (no update is posted)",
        request=s.PublicIncidentUpdateInput,
        responses={200: s.PublicIncidentSerializer, **WRITE_ERRORS},
    ),
)
class PublicIncidentViewSet(ReadViewSet):
    serializer_class = s.PublicIncidentSerializer
    filterset_class = PublicIncidentFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {"updates": ["statuspage.add_publicupdate"]}

    def get_queryset(self) -> QuerySet[PublicIncident]:
        return public_incident_list()

    def create(self, request: Request) -> Response:
        data = validated(s.PublicIncidentInput, request)
        public = public_incident_open(
            by=request_actor(request),
            title=data["title"],
            message=data["message"],
            impact=data.get("impact", "minor"),
            status=data.get("status", "investigating"),
            components=s._components(data.get("components", [])),
            incident=data.get("incident"),
            notify=data.get("notify", True),
        )
        return self.respond(public, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(s.PublicIncidentUpdateInput, request)
        return self.respond(public_incident_edit(public_incident=stored, by=request_actor(request), **data))

    @extend_schema(
        summary="Post an update: moves the status, restates components, tells subscribers",
        request=s.PublicUpdateInput,
        responses={201: s.PublicUpdateSerializer, 409: REFUSED, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def updates(self, request: Request, pk: str) -> Response:
        public = self.get_object()
        data = validated(s.PublicUpdateInput, request)
        update = public_update_post(
            public_incident=public,
            by=request_actor(request),
            status=data["status"],
            message=data["message"],
            components=s._components(data.get("components", [])),
            notify=data.get("notify", True),
        )
        return Response(s.PublicUpdateSerializer(update).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List maintenance windows, newest first"),
    retrieve=extend_schema(summary="A maintenance window, with its updates"),
    create=extend_schema(
        summary="Schedule maintenance (post its updates through /incidents/{id}/updates/)",
        request=s.MaintenanceInput,
        responses={201: s.PublicIncidentSerializer, **WRITE_ERRORS},
    ),
)
class MaintenanceViewSet(ReadViewSet):
    serializer_class = s.PublicIncidentSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[PublicIncident]:
        return public_incident_list().filter(kind=Kind.MAINTENANCE)

    def create(self, request: Request) -> Response:
        data = validated(s.MaintenanceInput, request)
        public = maintenance_schedule(
            by=request_actor(request),
            title=data["title"],
            message=data["message"],
            scheduled_for=data["scheduled_for"],
            scheduled_until=data["scheduled_until"],
            components=data.get("components", []),
            notify=data.get("notify", True),
        )
        return self.respond(public, status.HTTP_201_CREATED)


# --- Page settings ----------------------------------------------------------------------------


class PageSettingsView(APIView):
    """The page's one settings row. The logo is uploaded in the admin only (a file, checked there)."""

    parser_classes = PARSERS
    queryset = PageSettings.objects.none()  # ModelPermissions: view_ / change_pagesettings.

    @extend_schema(summary="The status page's settings", responses={200: s.PageSettingsSerializer})
    def get(self, request: Request) -> Response:
        return Response(s.PageSettingsSerializer(page_settings()).data)

    @extend_schema(
        summary="Change the status page's settings; what is not sent is kept (the logo: in the admin)",
        request=s.PageSettingsInput,
        responses={200: s.PageSettingsSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request) -> Response:
        data = validated(s.PageSettingsInput, request)
        return Response(s.PageSettingsSerializer(page_settings_save(by=request_actor(request), **data)).data)
