"""Cost over the API: hourly rates per team, thin CRUD whose writes go through
analytics.services.cost (400 with field errors for a team named twice or a negative rate), and one
incident's cost."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.serializers import (
    HourlyRateInput,
    HourlyRateSerializer,
    HourlyRateUpdateInput,
    IncidentCostSerializer,
)
from analytics.api.views import CanViewIncidents
from analytics.cost.record import incident_cost_breakdown
from analytics.models import HourlyRate
from analytics.services.cost import hourly_rate_delete, hourly_rate_save
from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from incidents.models import Incident

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such incident.")


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


class IncidentCostView(APIView):
    """An incident's cost computed now from its record: what its page shows (analytics sums the
    stored copy, see analytics.events)."""

    permission_classes = [CanViewIncidents]

    @extend_schema(
        operation_id="analytics_incident_cost",
        summary="An incident's cost: responders and their hours, the review meeting, the rate, the total",
        responses={200: IncidentCostSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
        tags=["analytics"],
    )
    def get(self, request: Request, incident_id: int) -> Response:
        incident = get_object_or_404(Incident, pk=incident_id)
        cost = incident_cost_breakdown(incident)
        body = {
            "incident": incident.pk,
            "reference": incident.reference,
            "responders": [
                {"user": r.user_id, "name": r.name, "hours": round(r.hours, 2)} for r in cost.responders
            ],
            "responder_hours": round(cost.responder_hours, 2),
            "meeting_at": cost.meeting_at,
            "meeting_invitees": cost.meeting_invitees,
            "meeting_hours": round(cost.meeting_hours, 2),
            "hours": round(cost.hours, 2),
            "team": cost.rate.team or None,
            "rate": cost.rate.rate,
            "currency": cost.currency,
            "amount": cost.amount,
            "open": cost.open,
            "computed_at": cost.computed_at,
        }
        return Response(IncidentCostSerializer(body).data)
