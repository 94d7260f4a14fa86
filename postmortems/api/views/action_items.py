"""Action items: the follow-up work a post-mortem commits to, and its status."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from common.api.actors import request_actor
from common.api.views import PARSERS, WRITE_ERRORS, validated
from postmortems import selectors, services
from postmortems.api.filters import ActionItemFilterSet
from postmortems.api.serializers import (
    ActionItemCreateInput,
    ActionItemSerializer,
    ActionItemUpdateInput,
    DropInput,
)
from postmortems.api.views.shared import TRANSITION_ERRORS, ListFiltersOnly
from postmortems.models import ActionItem

ITEM_CHANGE = ["postmortems.change_actionitem"]


def item_transition_schema(request: type[Serializer] | None, summary: str):
    return extend_schema(
        summary=summary, request=request, responses={200: ActionItemSerializer, **TRANSITION_ERRORS}
    )


@extend_schema_view(
    list=extend_schema(summary="List action items, soonest due first"),
    retrieve=extend_schema(summary="An action item"),
    create=extend_schema(
        summary="Add an action item to a post-mortem",
        request=ActionItemCreateInput,
        responses={201: ActionItemSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit an action item (status changes through the actions)",
        request=ActionItemUpdateInput,
        responses={200: ActionItemSerializer, **WRITE_ERRORS},
    ),
)
class ActionItemViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ActionItemSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = ActionItemFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = dict.fromkeys(("start", "complete", "drop", "reopen"), ITEM_CHANGE)

    def get_queryset(self) -> QuerySet[ActionItem]:
        return selectors.action_items_list()

    def item_response(self, item: ActionItem, status_code: int = status.HTTP_200_OK) -> Response:
        item = self.get_queryset().get(pk=item.pk)
        return Response(ActionItemSerializer(item).data, status=status_code)

    def create(self, request: Request) -> Response:
        data = validated(ActionItemCreateInput, request)
        postmortem = data.pop("postmortem")
        item = services.action_item_create(postmortem=postmortem, by=request_actor(request), data=data)
        return self.item_response(item, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        data = validated(ActionItemUpdateInput, request)
        item = services.action_item_update(item=item, by=request_actor(request), data=data)
        return self.item_response(item)

    @item_transition_schema(None, "Start work on an open action item")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        return self.item_response(
            services.action_item_start(item=self.get_object(), by=request_actor(request))
        )

    @item_transition_schema(None, "Mark an open or started action item done")
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        item = services.action_item_complete(item=self.get_object(), by=request_actor(request))
        return self.item_response(item)

    @item_transition_schema(DropInput, "Decide not to do an action item, with the reason")
    @action(detail=True, methods=["post"])
    def drop(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        data = validated(DropInput, request)
        item = services.action_item_drop(item=item, by=request_actor(request), reason=data["reason"])
        return self.item_response(item)

    @item_transition_schema(None, "Reopen a done or dropped action item")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        return self.item_response(
            services.action_item_reopen(item=self.get_object(), by=request_actor(request))
        )
