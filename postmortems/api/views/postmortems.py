"""Post-mortems: drafting, the review lifecycle, the Markdown download and the timeline."""

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BooleanField, Serializer
from rest_framework.settings import api_settings

from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from postmortems import selectors, services
from postmortems.api.filters import PostmortemFilterSet
from postmortems.api.serializers import (
    PostmortemCreateInput,
    PostmortemDetailSerializer,
    PostmortemSerializer,
    PostmortemUpdateInput,
    ReturnToDraftInput,
    ReviewScheduleInput,
    TimelineEntryAddInput,
    TimelineEntrySerializer,
    TimelineEntryUpdateInput,
    TimelineRegeneratedSerializer,
)
from postmortems.api.views.markdown import ERROR_BODIES, MARKDOWN_ERRORS, MarkdownRenderer
from postmortems.api.views.shared import REFUSED, TRANSITION_ERRORS, ListFiltersOnly
from postmortems.markdown import postmortem_markdown
from postmortems.models import Postmortem, TimelineEntry

CHANGE = ["postmortems.change_postmortem"]
INCLUDE_HIDDEN = OpenApiParameter(
    "include_hidden", bool, description="Also list the entries authors hid (default false)."
)
ENTRY_ID = OpenApiParameter("entry_id", int, OpenApiParameter.PATH, description="Timeline entry id.")


def _flag(request: Request, name: str) -> bool:
    return BooleanField().to_internal_value(request.query_params.get(name, "false"))


def transition_schema(request: type[Serializer] | None, summary: str, description: str = ""):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={200: PostmortemDetailSerializer, **TRANSITION_ERRORS},
    )


@extend_schema_view(
    list=extend_schema(summary="List post-mortems, newest first"),
    retrieve=extend_schema(
        summary="A post-mortem with its sections, computed facts, review meeting and action items"
    ),
    create=extend_schema(
        summary="Draft the post-mortem of an incident, prefilled from its record",
        description="One per incident: an incident that has one already is 409 with code `exists`.",
        request=PostmortemCreateInput,
        responses={
            201: PostmortemDetailSerializer,
            **WRITE_ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="code exists: the incident has one."),
        },
    ),
    partial_update=extend_schema(
        summary="Edit sections, authors or impacted services (status changes through the actions)",
        request=PostmortemUpdateInput,
        responses={200: PostmortemDetailSerializer, **TRANSITION_ERRORS},
    ),
)
class PostmortemViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = PostmortemFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {
        "submit": CHANGE,
        "return_to_draft": CHANGE,
        "publish": ["postmortems.publish_postmortem"],
        "schedule_review": CHANGE,
        "markdown": ["postmortems.view_postmortem"],
        "timeline": {
            "GET": ["postmortems.view_postmortem", "postmortems.view_timelineentry"],
            "POST": CHANGE,
        },
        "timeline_entries": ["postmortems.add_timelineentry"],
        "timeline_entry": {
            "PATCH": ["postmortems.change_timelineentry"],
            "DELETE": ["postmortems.delete_timelineentry"],
        },
    }

    def get_queryset(self) -> QuerySet[Postmortem]:
        if self.action == "list":
            return selectors.postmortem_list()
        if self.action in ("retrieve", "markdown"):
            return selectors.postmortem_detail_with_creator()
        return selectors.postmortem_write_queryset()

    def get_serializer_class(self) -> type[Serializer]:
        return PostmortemSerializer if self.action == "list" else PostmortemDetailSerializer

    def detail_response(self, postmortem: Postmortem, status_code: int = status.HTTP_200_OK) -> Response:
        # Reloaded, so the answer shows exactly what the service committed.
        postmortem = selectors.postmortem_detail_with_creator().get(pk=postmortem.pk)
        serializer = PostmortemDetailSerializer(postmortem, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def create(self, request: Request) -> Response:
        data = validated(PostmortemCreateInput, request)
        postmortem = services.postmortem_create(incident=data["incident"], by=request_actor(request))
        return self.detail_response(postmortem, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        postmortem = self.get_object()
        data = validated(PostmortemUpdateInput, request)
        authors = data.pop("authors", None)
        services_impacted = data.pop("services_impacted", None)
        postmortem = services.postmortem_update(
            postmortem=postmortem,
            by=request_actor(request),
            data=data,
            authors=authors,
            services_impacted=services_impacted,
        )
        return self.detail_response(postmortem)

    # --- Lifecycle: draft -> in review -> published ---------------------------------------------

    @transition_schema(
        None,
        "Submit a draft for review",
        "Needs the executive summary and the root cause (400 with field errors otherwise).",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        postmortem = services.postmortem_submit(postmortem=self.get_object(), by=request_actor(request))
        return self.detail_response(postmortem)

    @transition_schema(ReturnToDraftInput, "Send a post-mortem in review back to draft, with the reason")
    @action(detail=True, methods=["post"], url_path="return-to-draft")
    def return_to_draft(self, request: Request, pk: str) -> Response:
        postmortem = self.get_object()
        data = validated(ReturnToDraftInput, request)
        postmortem = services.postmortem_return_to_draft(
            postmortem=postmortem, by=request_actor(request), reason=data.get("reason", "")
        )
        return self.detail_response(postmortem)

    @transition_schema(
        None,
        "Publish a post-mortem in review (needs the publish permission); final",
        "The Markdown goes by email to the stakeholders after commit.",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        postmortem = services.postmortem_publish(postmortem=self.get_object(), by=request_actor(request))
        return self.detail_response(postmortem)

    @transition_schema(
        ReviewScheduleInput,
        "Schedule (or move) the review meeting and invite its attendees",
        "Each attendee gets an invitation with an .ics after commit; rescheduling sends an update of "
        "the same event. Attendees need an email address.",
    )
    @action(detail=True, methods=["post"], url_path="schedule-review")
    def schedule_review(self, request: Request, pk: str) -> Response:
        postmortem = self.get_object()
        data = validated(ReviewScheduleInput, request)
        postmortem = services.postmortem_review_schedule(
            postmortem=postmortem, by=request_actor(request), attendees=data["attendees"], at=data.get("at")
        )
        return self.detail_response(postmortem)

    # --- Markdown ---------------------------------------------------------------------------------

    @extend_schema(
        summary="The post-mortem as Markdown, downloaded as <reference>-postmortem.md",
        description="`text/markdown; charset=utf-8` with `Content-Disposition: attachment`; what "
        "publication emails.",
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="The Markdown file."),
            # A client that asked for Markdown gets an error's detail as text (MarkdownRenderer).
            **{
                (code, media_type): OpenApiResponse(body, description=description)
                for code, description in MARKDOWN_ERRORS.items()
                for media_type, body in ERROR_BODIES
            },
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, MarkdownRenderer],
    )
    def markdown(self, request: Request, pk: str) -> HttpResponse:
        postmortem = self.get_object()
        response = HttpResponse(postmortem_markdown(postmortem), content_type="text/markdown; charset=utf-8")
        filename = f"{postmortem.incident.reference}-postmortem.md"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    # --- Timeline ---------------------------------------------------------------------------------

    def timeline_entries_list(self, postmortem: Postmortem) -> list[TimelineEntry]:
        return selectors.postmortem_timeline(postmortem, include_hidden=_flag(self.request, "include_hidden"))

    @extend_schema(
        methods=["GET"],
        summary="The post-mortem's timeline: key moments (pinned) first, then the rest oldest first",
        parameters=[INCLUDE_HIDDEN],
        responses=TimelineEntrySerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Regenerate the timeline from the incident's record; authors' edits stay",
        description="Adds entries for records new since the last generation and refreshes the "
        "generated fields of the others; pins, hides, rewordings and author entries are kept.",
        parameters=[INCLUDE_HIDDEN],
        request=None,
        responses={200: TimelineRegeneratedSerializer, 403: FORBIDDEN, 409: REFUSED},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def timeline(self, request: Request, pk: str) -> Response:
        postmortem = self.get_object()
        if request.method == "POST":
            added = services.timeline_regenerate(postmortem=postmortem, by=request_actor(request))
            entries = self.timeline_entries_list(postmortem)
            body = {"added": added, "total": len(entries), "entries": entries}
            return Response(TimelineRegeneratedSerializer(body).data)
        return Response(TimelineEntrySerializer(self.timeline_entries_list(postmortem), many=True).data)

    @extend_schema(
        summary="Add an author's entry to the timeline",
        request=TimelineEntryAddInput,
        responses={201: TimelineEntrySerializer, **TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="timeline/entries", url_name="timeline-entries")
    def timeline_entries(self, request: Request, pk: str) -> Response:
        postmortem = self.get_object()
        data = validated(TimelineEntryAddInput, request)
        entry = services.timeline_entry_add(postmortem=postmortem, by=request_actor(request), **data)
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        summary="Pin, hide or reword a timeline entry; only author entries move in time",
        parameters=[ENTRY_ID],
        request=TimelineEntryUpdateInput,
        responses={200: TimelineEntrySerializer, **TRANSITION_ERRORS},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Delete an author's timeline entry (generated ones can only be hidden: 400)",
        parameters=[ENTRY_ID],
        responses={204: None, **TRANSITION_ERRORS},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"timeline/entries/(?P<entry_id>\d+)",
        url_name="timeline-entry",
    )
    def timeline_entry(self, request: Request, pk: str, entry_id: str) -> Response:
        postmortem = self.get_object()
        entry = get_object_or_404(selectors.timeline_entry_list(postmortem=postmortem), pk=entry_id)
        entry.postmortem = postmortem
        if request.method == "DELETE":
            services.timeline_entry_delete(entry=entry, by=request_actor(request))
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = validated(TimelineEntryUpdateInput, request)
        entry = services.timeline_entry_update(entry=entry, by=request_actor(request), **data)
        return Response(TimelineEntrySerializer(entry).data)
