"""/api/v1/tokens/: your own API tokens. List them, issue one (its key is in that answer only)
and revoke one. Issuing needs a logged-in session, not a token, so a leaked key cannot mint
itself a successor that outlives its expiry."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.serializers import StrictSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, validated
from common.authentication import ApiTokenAuthentication
from common.models import ApiToken, ApiTokenStatus
from common.selectors import api_token_list
from common.services import api_token_create, api_token_revoke


class ApiTokenSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ApiTokenStatus.choices, read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "status", "created_at", "expires_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown in this answer only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiTokenCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(
        required=False, help_text="Default: API_TOKEN_TTL_DAYS (90) days from now."
    )


@extend_schema_view(
    list=extend_schema(summary="Your API tokens, newest first"),
    retrieve=extend_schema(summary="One of your API tokens"),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = PARSERS
    filter_backends = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ApiToken]:
        return api_token_list(user=self.request.user)

    @extend_schema(
        summary="Issue an API token for yourself (needs a session login)",
        request=ApiTokenCreateInput,
        responses={201: ApiTokenCreatedSerializer, 400: BAD_INPUT, 403: FORBIDDEN},
    )
    def create(self, request: Request) -> Response:
        if isinstance(request.successful_authenticator, ApiTokenAuthentication):
            raise PermissionDenied(
                "Issue tokens from a logged-in session (the admin or /api/docs/), not with a token."
            )
        data = validated(ApiTokenCreateInput, request)
        token, key = api_token_create(user=request.user, **data)
        token.key = key  # For this answer only; the row has no such field.
        body = ApiTokenCreatedSerializer(token).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(
        summary="Revoke one of your tokens: it stops working at once",
        request=None,
        responses={200: ApiTokenSerializer, 409: OpenApiResponse(description="Already revoked.")},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        token = api_token_revoke(token=self.get_object(), by=request.user)
        return Response(ApiTokenSerializer(token).data)
