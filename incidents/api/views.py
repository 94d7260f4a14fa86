"""Thin views: reads come from incidents.selectors, every write is one call to incidents.services.
Domain errors become {"detail", "code"} responses in common.api.exceptions."""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from incidents import selectors, services
from incidents.api.filters import IncidentFilterSet, ServiceFilterSet
from incidents.api.renderers import CsvRenderer, MarkdownRenderer
from incidents.api.serializers import (
    CloseInput,
    DismissInput,
    IncidentCreateInput,
    IncidentDetailSerializer,
    IncidentSerializer,
    IncidentUpdateInput,
    NoteInput,
    PinInput,
    PrioritySerializer,
    PrioritySuggestInput,
    PrioritySuggestionSerializer,
    ReasonInput,
    ResolveInput,
    RoleAssignInput,
    ServiceCreateInput,
    ServiceSerializer,
    ServiceUpdateInput,
    StatusUpdateInput,
    StatusUpdateSerializer,
    TimelineEventSerializer,
)
from incidents.models import Incident
from incidents.priority_rules import priority_suggest
from incidents.timeline_export import FORMATS, timeline_export

TRANSITION = ["incidents.transition_incident"]
CHANGE = ["incidents.change_incident"]

REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="code transition_not_allowed: not possible from the current status; "
    "code conflict: someone changed the incident meanwhile (reload and retry).",
)
TRANSITION_ERRORS = {400: BAD_INPUT, 403: FORBIDDEN, 409: REFUSED}


def transition_schema(request: type[Serializer] | None, description: str):
    return extend_schema(
        summary=description,
        request=request,
        responses={200: IncidentDetailSerializer, **TRANSITION_ERRORS},
    )


@extend_schema_view(
    list=extend_schema(summary="List incidents, newest detection first"),
    retrieve=extend_schema(summary="An incident with its roles and the transitions open to you"),
    create=extend_schema(
        summary="Open an incident",
        request=IncidentCreateInput,
        responses={201: IncidentDetailSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit an incident's details (status changes through the transition endpoints)",
        request=IncidentUpdateInput,
        responses={200: IncidentDetailSerializer, **WRITE_ERRORS},
    ),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {
        **dict.fromkeys(services.TRANSITION_SERVICES, TRANSITION),
        "timeline": ["incidents.view_incident", "incidents.view_timelineevent"],
        "timeline_export": ["incidents.view_incident", "incidents.view_timelineevent"],
        "timeline_pin": CHANGE,
        "notes": CHANGE,
        "roles": CHANGE,
        "status_updates": {
            "GET": ["incidents.view_incident", "incidents.view_statusupdate"],
            "POST": ["incidents.add_statusupdate"],
        },
        "suggest_priority": ["incidents.view_incident"],
    }

    def get_queryset(self) -> QuerySet[Incident]:
        if self.action == "retrieve":
            return selectors.incident_detail_queryset()
        if self.action == "list":
            return selectors.incident_list()
        return selectors.incident_write_queryset()

    def get_serializer_class(self) -> type[Serializer]:
        return IncidentSerializer if self.action == "list" else IncidentDetailSerializer

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Query parameters filter the list only, never the object an action works on.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def perform_content_negotiation(self, request: Request, force: bool = False):
        try:
            return super().perform_content_negotiation(request, force)
        except (Http404, NotFound):
            # ?format= names the download's format there: an unknown one is bad input, not a 404.
            if self.action == "timeline_export":
                raise ValidationError({"format": [f"Choose one of {', '.join(FORMATS)}."]}) from None
            raise

    def detail_response(self, incident: Incident, status_code: int = status.HTTP_200_OK) -> Response:
        # Reloaded, so the answer shows exactly what the service committed.
        incident = selectors.incident_detail_queryset().get(pk=incident.pk)
        serializer = IncidentDetailSerializer(incident, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def create(self, request: Request) -> Response:
        data = validated(IncidentCreateInput, request)
        incident = services.incident_create(by=request_actor(request), **data)
        return self.detail_response(incident, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        incident = self.get_object()
        changes = validated(IncidentUpdateInput, request)
        incident = services.incident_update(incident=incident, by=request_actor(request), changes=changes)
        return self.detail_response(incident)

    # --- Transitions: one endpoint each, all through services.TRANSITION_SERVICES ---------------

    def transition(
        self, request: Request, name: str, input_class: type[Serializer] | None = None
    ) -> Response:
        incident = self.get_object()
        data = validated(input_class, request) if input_class else {}
        incident = services.TRANSITION_SERVICES[name](incident=incident, by=request_actor(request), **data)
        return self.detail_response(incident)

    @transition_schema(None, "Acknowledge a new incident: work starts")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        return self.transition(request, "acknowledge")

    @transition_schema(ReasonInput, "Put an incident in progress on hold")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str) -> Response:
        return self.transition(request, "hold", ReasonInput)

    @transition_schema(None, "Resume work on an incident on hold")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        return self.transition(request, "resume")

    @transition_schema(ResolveInput, "Resolve an incident being worked")
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        return self.transition(request, "resolve", ResolveInput)

    @transition_schema(ReasonInput, "Reopen a resolved incident that recurred")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        return self.transition(request, "reopen", ReasonInput)

    @transition_schema(CloseInput, "Close a resolved incident")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        return self.transition(request, "close", CloseInput)

    @transition_schema(DismissInput, "Dismiss a new incident as a false alarm or a duplicate")
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str) -> Response:
        return self.transition(request, "dismiss", DismissInput)

    # --- Timeline, notes, roles, status updates -------------------------------------------------

    @extend_schema(
        summary="The incident's timeline, oldest first", responses=TimelineEventSerializer(many=True)
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def timeline(self, request: Request, pk: str) -> Response:
        events = selectors.incident_timeline(incident=self.get_object())
        page = self.paginate_queryset(events)
        return self.get_paginated_response(TimelineEventSerializer(page, many=True).data)

    @extend_schema(
        summary="Download the incident's timeline as CSV or Markdown (pinned events marked)",
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=list(FORMATS),
                description="csv (the default) or md. CSV cells that would start a spreadsheet "
                "formula are prefixed with a quote; Markdown text is escaped.",
            )
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "text/markdown"): OpenApiTypes.STR,
            # Errors are JSON whatever the download's format.
            (400, "application/json"): BAD_INPUT,
            (403, "application/json"): FORBIDDEN,
            (404, "application/json"): OpenApiResponse(description="No such incident."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="timeline/export",
        filter_backends=[],
        renderer_classes=[CsvRenderer, MarkdownRenderer],
    )
    def timeline_export(self, request: Request, pk: str) -> Response:
        export = timeline_export(incident=self.get_object(), fmt=request.accepted_renderer.format)
        return Response(
            export.content,
            content_type=export.content_type,
            headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
        )

    @extend_schema(
        summary="Pin (star) or unpin a timeline event; pinned events lead the post-mortem's timeline",
        request=PinInput,
        responses={
            200: TimelineEventSerializer,
            404: OpenApiResponse(description="No such event on this incident."),
            **WRITE_ERRORS,
        },
    )
    @action(detail=True, methods=["post"], url_path=r"timeline/(?P<event_id>\d+)/pin", filter_backends=[])
    def timeline_pin(self, request: Request, pk: str, event_id: str) -> Response:
        incident = self.get_object()
        event = get_object_or_404(selectors.incident_timeline(incident=incident), pk=event_id)
        data = validated(PinInput, request)
        event = services.timeline_event_pin(event=event, by=request_actor(request), **data)
        return Response(TimelineEventSerializer(event).data)

    @extend_schema(
        summary="Add a note to the timeline",
        request=NoteInput,
        responses={201: TimelineEventSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str) -> Response:
        incident = self.get_object()
        data = validated(NoteInput, request)
        event = services.incident_note_add(incident=incident, by=request_actor(request), **data)
        return Response(TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Give a response role to a user, or leave it empty (user null)",
        request=RoleAssignInput,
        responses={200: IncidentDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def roles(self, request: Request, pk: str) -> Response:
        incident = self.get_object()
        data = validated(RoleAssignInput, request)
        incident = services.incident_role_assign(incident=incident, by=request_actor(request), **data)
        return self.detail_response(incident)

    @extend_schema(
        methods=["GET"],
        summary="Status updates, newest first",
        responses=StatusUpdateSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Post a status update (internal, or public for stakeholders and the status page)",
        request=StatusUpdateInput,
        responses={201: StatusUpdateSerializer, **TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["get", "post"], url_path="status-updates", filter_backends=[])
    def status_updates(self, request: Request, pk: str) -> Response:
        incident = self.get_object()
        if request.method == "POST":
            data = validated(StatusUpdateInput, request)
            update = services.status_update_create(incident=incident, by=request_actor(request), **data)
            return Response(StatusUpdateSerializer(update).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.incident_status_updates(incident=incident))
        return self.get_paginated_response(StatusUpdateSerializer(page, many=True).data)

    @extend_schema(
        summary="Suggest a priority from the impact, by the runbook's rules",
        request=PrioritySuggestInput,
        responses={200: PrioritySuggestionSerializer, 400: BAD_INPUT},
    )
    @action(detail=False, methods=["post"], url_path="suggest-priority", filter_backends=[])
    def suggest_priority(self, request: Request) -> Response:
        suggestion = priority_suggest(**validated(PrioritySuggestInput, request))
        priority = selectors.priority_by_code(code=suggestion.code)
        body = {
            "priority": suggestion.code,
            "priority_id": priority.pk if priority else None,
            "reasons": suggestion.reasons,
        }
        return Response(PrioritySuggestionSerializer(body).data)


@extend_schema_view(
    create=extend_schema(
        summary="Add a service to the catalog",
        request=ServiceCreateInput,
        responses={201: ServiceSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a service",
        request=ServiceUpdateInput,
        responses={200: ServiceSerializer, **WRITE_ERRORS},
    ),
)
class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ServiceSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = ServiceFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet:
        return selectors.service_list()

    def create(self, request: Request) -> Response:
        service = services.service_create(by=request_actor(request), **validated(ServiceCreateInput, request))
        return Response(ServiceSerializer(service).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        service = self.get_object()
        changes = validated(ServiceUpdateInput, request)
        service = services.service_update(service=service, by=request_actor(request), changes=changes)
        return Response(ServiceSerializer(service).data)


class PriorityViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PrioritySerializer
    filter_backends = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet:
        return selectors.priority_list()
