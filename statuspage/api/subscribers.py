"""The subscribers API (mounted by statuspage/api/urls.py): list and read subscribers (an Admin's:
`view_subscriber` is a private view), add an email subscriber (double opt-in unless the operator
says `"confirmed": true` and may change subscribers) or a webhook subscriber (its signing secret is
in this answer only), and DELETE to unsubscribe. The webhook URL and secret are never shown."""

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.actors import request_actor
from common.api.serializers import StrictSerializer
from common.api.views import FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from notifications.api.serializers import IdField
from statuspage.choices import SubscriberKind, SubscriberStatus
from statuspage.models import Component, Subscriber
from statuspage.services.subscribers import (
    CHANGE_PERMISSION,
    MAX_URL,
    subscriber_subscribe,
    subscriber_unsubscribe,
    subscriber_webhook_add,
)
from statuspage.subscriber_selectors import subscriber_list


class SubscriberSerializer(serializers.ModelSerializer):
    """A subscriber as lists show it: never the webhook's URL or secret."""

    address = serializers.SerializerMethodField(help_text="The email address, or the webhook's host.")
    components = serializers.SerializerMethodField(help_text="Component ids; empty: every component.")

    class Meta:
        model = Subscriber
        fields = ["id", "kind", "email", "address", "status", "components", "created_at", "confirmed_at"]
        read_only_fields = fields

    def get_address(self, obj: Subscriber) -> str:
        return obj.email if obj.kind == SubscriberKind.EMAIL else obj.webhook_host

    def get_components(self, obj: Subscriber) -> list[int]:
        return [component.pk for component in obj.components.all()]  # prefetched


class WebhookSubscriberSerializer(SubscriberSerializer):
    """The answer to adding a subscriber; a webhook's carries its signing secret, this once."""

    secret = serializers.SerializerMethodField(help_text="Signs every POST; shown this once.")

    class Meta(SubscriberSerializer.Meta):
        fields = [*SubscriberSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, obj: Subscriber) -> str:
        return self.context["secret"]


class SubscriberCreateInput(StrictSerializer):
    """A new subscriber: `email` for kind email, `url` for kind webhook."""

    kind = serializers.ChoiceField(choices=SubscriberKind.choices, default=SubscriberKind.EMAIL)
    email = serializers.CharField(max_length=254, required=False, help_text="For kind email.")
    url = serializers.CharField(
        max_length=MAX_URL, required=False, help_text="For kind webhook: http(s) URL it is POSTed to."
    )
    components = IdField(
        queryset=Component.objects.all(), many=True, required=False, help_text="Component ids; empty: all."
    )
    confirmed = serializers.BooleanField(
        default=False, help_text="Email: skip the opt-in (you have their consent); needs change_subscriber."
    )

    def validate(self, data: dict) -> dict:
        needed = "email" if data["kind"] == SubscriberKind.EMAIL else "url"
        if not data.get(needed):
            raise serializers.ValidationError({needed: ["This field is required."]})
        unused = "url" if needed == "email" else "email"
        if unused in data:
            raise serializers.ValidationError({unused: [f"Not for a {data['kind']} subscriber."]})
        return data


class SubscriberFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=SubscriberKind.choices)
    status = filters.ChoiceFilter(choices=SubscriberStatus.choices)

    class Meta:
        model = Subscriber
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List status page subscribers (webhook URLs and secrets never shown)"),
    retrieve=extend_schema(summary="A status page subscriber"),
    create=extend_schema(
        summary="Add a subscriber: email (a confirmation email is sent unless confirmed) or webhook "
        "(the answer carries its signing secret, this once)",
        request=SubscriberCreateInput,
        responses={201: WebhookSubscriberSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Unsubscribe (the row stays, as the record)", responses={204: None, 403: FORBIDDEN}
    ),
)
class SubscriberViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = SubscriberSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = SubscriberFilterSet
    lookup_value_regex = r"\d+"
    # Unsubscribing keeps the row: a change, not a delete.
    action_permissions = {"destroy": [CHANGE_PERMISSION]}

    def get_queryset(self) -> QuerySet[Subscriber]:
        queryset = subscriber_list()
        return queryset if self.action == "list" else queryset.order_by()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def create(self, request: Request) -> Response:
        data = validated(SubscriberCreateInput, request)
        by = request_actor(request)
        components = data.get("components", [])
        if data["kind"] == SubscriberKind.WEBHOOK:
            subscriber, secret = subscriber_webhook_add(by=by, url=data["url"], components=components)
            body = WebhookSubscriberSerializer(self._fresh(subscriber), context={"secret": secret}).data
        else:
            subscriber = subscriber_subscribe(
                by=by, email=data["email"], components=components, confirmed=data["confirmed"]
            )
            body = SubscriberSerializer(self._fresh(subscriber)).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Subscriber) -> None:
        subscriber_unsubscribe(subscriber=instance, by=request_actor(self.request))

    def _fresh(self, subscriber: Subscriber) -> Subscriber:
        return subscriber_list().get(pk=subscriber.pk)
