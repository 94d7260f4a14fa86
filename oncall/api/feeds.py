"""Calendar feeds over the API: each person manages their own. Creating one answers its secret URL,
once; lists never show it."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.serializers import ErrorSerializer
from common.api.views import PARSERS, WRITE_ERRORS, validated
from oncall import selectors
from oncall.models import CalendarFeed, Schedule
from oncall.services.feeds import calendar_feed_create, calendar_feed_revoke, calendar_feed_url


class CalendarFeedSerializer(serializers.ModelSerializer):
    schedule_name = serializers.CharField(source="schedule.name", read_only=True, default=None)

    class Meta:
        model = CalendarFeed
        fields = ["id", "schedule", "schedule_name", "token_prefix", "created_at", "revoked_at"]
        read_only_fields = fields


class CalendarFeedCreatedSerializer(CalendarFeedSerializer):
    url = serializers.CharField(read_only=True, help_text="The feed's secret URL; shown only now.")

    class Meta(CalendarFeedSerializer.Meta):
        fields = [*CalendarFeedSerializer.Meta.fields, "url"]
        read_only_fields = fields


class CalendarFeedCreateInput(serializers.Serializer):
    schedule = serializers.PrimaryKeyRelatedField(
        queryset=Schedule.objects.all(),
        required=False,
        allow_null=True,
        help_text="The schedule to follow; empty: your own shifts on every schedule.",
    )


ALREADY_REVOKED = OpenApiResponse(ErrorSerializer, description="code conflict: the feed is already revoked.")


@extend_schema_view(
    list=extend_schema(summary="Your calendar feeds (their URLs are shown only when created)"),
    create=extend_schema(
        summary="Create a calendar feed; the answer carries its secret URL, shown only this once",
        request=CalendarFeedCreateInput,
        responses={201: CalendarFeedCreatedSerializer, **WRITE_ERRORS},
    ),
)
class CalendarFeedViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CalendarFeedSerializer
    parser_classes = PARSERS
    permission_classes = [IsAuthenticated]
    filter_backends = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[CalendarFeed]:
        if getattr(self, "swagger_fake_view", False):
            return CalendarFeed.objects.none()
        return selectors.calendar_feed_list(owner=self.request.user)

    def create(self, request: Request) -> Response:
        data = validated(CalendarFeedCreateInput, request)
        feed, token = calendar_feed_create(owner=request.user, schedule=data.get("schedule"))
        feed.url = calendar_feed_url(token)
        return Response(CalendarFeedCreatedSerializer(feed).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a calendar feed: its URL stops working at once",
        request=None,
        responses={200: CalendarFeedSerializer, 409: ALREADY_REVOKED},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        feed = calendar_feed_revoke(feed=self.get_object(), by=request.user)
        return Response(CalendarFeedSerializer(feed).data)
