"""Earlier incidents like this one, with what their post-mortems found."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.fields import is_id
from common.api.views import BAD_INPUT
from incidents.models import Incident
from postmortems.api.serializers import RelatedIncidentSerializer
from postmortems.related import incidents_related


class IncidentRelatedView(generics.GenericAPIView):
    """GET /incidents/{id}/related/: routed here, next to the post-mortems, because what makes an
    earlier incident worth reading is what its post-mortem found. Needs `view_incident` (from the
    queryset's model)."""

    queryset = Incident.objects.all()
    serializer_class = RelatedIncidentSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(
        operation_id="incidents_related_list",
        summary="Earlier incidents that look like this one, most recent first",
        description="Same services, same alerts or a similar title; each with the reasons and what "
        "its post-mortem found. Drills are left out. At most `limit` (default 10, at most 50).",
        parameters=[OpenApiParameter("limit", int, description="1 to 50; default 10.")],
        responses={200: RelatedIncidentSerializer(many=True), 400: BAD_INPUT},
    )
    def get(self, request: Request, pk: int) -> Response:
        incident = self.get_object()
        limit = _limit(request)
        related = incidents_related(incident=incident, limit=limit)
        return Response(RelatedIncidentSerializer(related, many=True).data)


def _limit(request: Request) -> int:
    value = request.query_params.get("limit", "10").strip()
    if not is_id(value) or not 1 <= int(value) <= 50:
        raise ValidationError({"limit": ["Give a whole number from 1 to 50."]})
    return int(value)
