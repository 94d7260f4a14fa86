"""Hourly rates per team over the API: thin CRUD whose writes go through analytics.services.cost
(400 with field errors for a team named twice or a negative rate)."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.serializers import HourlyRateInput, HourlyRateSerializer, HourlyRateUpdateInput
from analytics.models import HourlyRate
from analytics.services.cost import hourly_rate_delete, hourly_rate_save
from common.api.actors import request_actor
from common.api.views import FORBIDDEN, PARSERS, WRITE_ERRORS, validated


@extend_schema_view(
    list=extend_schema(summary="List the hourly rates per team", tags=["analytics"]),
    retrieve=extend_schema(summary="A team's hourly rate", tags=["analytics"]),
    create=extend_schema(
        summary="Set a team's hourly rate; its incidents' costs are recomputed",
        request=HourlyRateInput,
        responses={201: HourlyRateSerializer, **WRITE_ERRORS},
        tags=["analytics"],
    ),
    partial_update=extend_schema(
        summary="Change a team's hourly rate (or the team's name); costs are recomputed",
        request=HourlyRateUpdateInput,
        responses={200: HourlyRateSerializer, **WRITE_ERRORS},
        tags=["analytics"],
    ),
    destroy=extend_schema(
        summary="Remove a team's rate: its incidents fall back to the default rate",
        responses={204: None, 403: FORBIDDEN},
        tags=["analytics"],
    ),
)
class HourlyRateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = HourlyRateSerializer
    parser_classes = PARSERS
    filter_backends = []
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[HourlyRate]:
        return HourlyRate.objects.order_by("team", "pk")

    def respond(self, rate: HourlyRate, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(HourlyRateSerializer(rate).data, status=status_code)

    def create(self, request: Request) -> Response:
        data = validated(HourlyRateInput, request)
        rate = hourly_rate_save(by=request_actor(request), team=data["team"], rate=data["rate"])
        return self.respond(rate, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(HourlyRateUpdateInput, request)
        rate = hourly_rate_save(
            by=request_actor(request),
            team=data.get("team", stored.team),
            rate=data.get("rate", stored.rate),
            instance=stored,
        )
        return self.respond(rate)

    def perform_destroy(self, instance: HourlyRate) -> None:
        hourly_rate_delete(by=request_actor(self.request), rate=instance)
