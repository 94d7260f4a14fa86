"""Thin views: every write is one call to notifications.services, every list and detail a queryset
from notifications.selectors. Domain errors become {"detail", "code"} responses in
common.api.exceptions (a retry of a delivery in the wrong state is 409); service validation errors
become 400 with field errors."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.actors import request_actor
from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from notifications import selectors
from notifications.api.filters import (
    ChannelFilterSet,
    ContactMethodFilterSet,
    DeliveryFilterSet,
    RuleFilterSet,
    TemplateFilterSet,
)
from notifications.api.serializers import (
    ChannelCreateInput,
    ChannelSerializer,
    ChannelUpdateInput,
    ContactMethodCreateInput,
    ContactMethodSerializer,
    ContactMethodUpdateInput,
    DeliverySerializer,
    MessageTemplateSerializer,
    PreviewSerializer,
    RuleCreateInput,
    RuleSerializer,
    RuleUpdateInput,
    TemplatePreviewInput,
    TemplateUpdateInput,
)
from notifications.models import Channel, ContactMethod, Delivery, MessageTemplate, NotificationRule
from notifications.services.channels import channel_delete, channel_save, channel_test_send
from notifications.services.configuration import (
    contact_method_delete,
    contact_method_save,
    rule_delete,
    rule_save,
    template_preview,
    template_save,
)
from notifications.services.deliveries import delivery_retry

RELATIONS = ("priorities", "services", "channels", "users", "groups")
NOT_RETRYABLE = OpenApiResponse(
    ErrorSerializer,
    description="code transition_not_allowed: only failed or dead deliveries can be retried.",
)


class ListFiltersOnly:
    """Query parameters filter the list only, never the object an action works on."""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset


# --- Channels ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List notification channels (secrets are never shown)"),
    retrieve=extend_schema(summary="A notification channel"),
    create=extend_schema(
        summary="Add a channel; its secret is write-only",
        request=ChannelCreateInput,
        responses={201: ChannelSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a channel; an empty or absent secret keeps the stored one; enabling resets failures",
        request=ChannelUpdateInput,
        responses={200: ChannelSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a channel with its deliveries", responses={204: None, 403: FORBIDDEN}
    ),
)
class ChannelViewSet(
    ListFiltersOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ChannelSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = ChannelFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {"test": ["notifications.change_channel"]}

    def get_queryset(self) -> QuerySet[Channel]:
        return selectors.channel_list()

    def channel_response(self, channel: Channel, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(ChannelSerializer(channel).data, status=status_code)

    def create(self, request: Request) -> Response:
        data = validated(ChannelCreateInput, request)
        channel = channel_save(
            by=request_actor(request),
            name=data["name"],
            kind=data["kind"],
            config=data.get("config", {}),
            secret=data.get("secret", ""),
            enabled=data["enabled"],
        )
        return self.channel_response(channel, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(ChannelUpdateInput, request)
        channel = channel_save(
            by=request_actor(request),
            channel=stored,
            name=data.get("name", stored.name),
            kind=data.get("kind", stored.kind),
            config=data.get("config", stored.config),
            secret=data.get("secret", ""),
            enabled=data.get("enabled", stored.enabled),
        )
        return self.channel_response(channel)

    def perform_destroy(self, instance: Channel) -> None:
        channel_delete(channel=instance, by=request_actor(self.request))

    @extend_schema(
        summary="Send a test message now, through the delivery ledger; answers the delivery",
        description="The delivery's status says how it went: sent, or failed/dead with the error. "
        "A disabled channel is 400.",
        request=None,
        responses={200: DeliverySerializer, 400: BAD_INPUT, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        delivery = channel_test_send(channel=self.get_object(), by=request_actor(request))
        delivery = selectors.delivery_list().get(pk=delivery.pk)
        return Response(DeliverySerializer(delivery).data)


# --- Rules ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List notification rules in reading order"),
    retrieve=extend_schema(summary="A notification rule"),
    create=extend_schema(
        summary="Add a notification rule",
        request=RuleCreateInput,
        responses={201: RuleSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a notification rule; a relation, when sent, replaces the current one",
        request=RuleUpdateInput,
        responses={200: RuleSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(summary="Delete a notification rule", responses={204: None, 403: FORBIDDEN}),
)
class RuleViewSet(
    ListFiltersOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RuleSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = RuleFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[NotificationRule]:
        return selectors.rule_list()

    def save(self, request: Request, input_class, rule: NotificationRule | None) -> NotificationRule:
        data = validated(input_class, request)
        relations = {name: list(data.pop(name)) for name in RELATIONS if name in data}
        return rule_save(by=request_actor(request), rule=rule, **relations, **data)

    def rule_response(self, rule: NotificationRule, status_code: int = status.HTTP_200_OK) -> Response:
        rule = selectors.rule_list().get(pk=rule.pk)
        return Response(RuleSerializer(rule).data, status=status_code)

    def create(self, request: Request) -> Response:
        return self.rule_response(self.save(request, RuleCreateInput, None), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.rule_response(self.save(request, RuleUpdateInput, self.get_object()))

    def perform_destroy(self, instance: NotificationRule) -> None:
        rule_delete(rule=instance, by=request_actor(self.request))


# --- Templates --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List message templates (one per event kind and audience)"),
    retrieve=extend_schema(summary="A message template"),
    partial_update=extend_schema(
        summary="Edit a message template; one that does not compile is 400",
        request=TemplateUpdateInput,
        responses={200: MessageTemplateSerializer, **WRITE_ERRORS},
    ),
)
class TemplateViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = MessageTemplateSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = TemplateFilterSet
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    # A preview renders and saves nothing: reading the templates is enough.
    action_permissions = {"preview": ["notifications.view_messagetemplate"]}

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        return selectors.template_list()

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(TemplateUpdateInput, request)
        template = template_save(
            by=request_actor(request),
            template=stored,
            event_kind=stored.event_kind,
            audience=stored.audience,
            subject=data.get("subject", stored.subject),
            body=data.get("body", stored.body),
        )
        return Response(MessageTemplateSerializer(template).data)

    @extend_schema(
        summary="Render the template (or the subject and body sent) against an incident; saves nothing",
        request=TemplatePreviewInput,
        responses={200: PreviewSerializer, 400: BAD_INPUT, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(TemplatePreviewInput, request)
        message = template_preview(
            by=request_actor(request),
            subject=data.get("subject", stored.subject),
            body=data.get("body", stored.body),
            event_kind=stored.event_kind,
            incident=data.get("incident"),
        )
        return Response(PreviewSerializer(message).data)


# --- Deliveries -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List deliveries (the ledger), newest first"),
    retrieve=extend_schema(summary="A delivery: what was sent, where, its error and attempts"),
)
class DeliveryViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = DeliverySerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = DeliveryFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {"retry": ["notifications.change_delivery"]}

    def get_queryset(self) -> QuerySet[Delivery]:
        return selectors.delivery_list()

    @extend_schema(
        summary="Send a failed or dead delivery again, now",
        request=None,
        responses={200: DeliverySerializer, 400: BAD_INPUT, 403: FORBIDDEN, 409: NOT_RETRYABLE},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        delivery = delivery_retry(delivery=self.get_object(), by=request_actor(request))
        return Response(DeliverySerializer(selectors.delivery_list().get(pk=delivery.pk)).data)


# --- Contact methods --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List your contact methods (everyone's with the view permission)",
    ),
    retrieve=extend_schema(summary="A contact method"),
    create=extend_schema(
        summary="Add a contact method (yours, or someone else's with the change permission)",
        request=ContactMethodCreateInput,
        responses={201: ContactMethodSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a contact method",
        request=ContactMethodUpdateInput,
        responses={200: ContactMethodSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(summary="Delete a contact method", responses={204: None, 403: FORBIDDEN}),
)
class ContactMethodViewSet(
    ListFiltersOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Everyone manages their own; contact_method_save and contact_method_delete require the model
    permission for anyone else's."""

    serializer_class = ContactMethodSerializer
    parser_classes = PARSERS
    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ContactMethodFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ContactMethod]:
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return ContactMethod.objects.none()
        if user.has_perm("notifications.view_contactmethod"):
            return selectors.contact_method_list()
        return selectors.contact_method_list(user=user)

    def create(self, request: Request) -> Response:
        data = validated(ContactMethodCreateInput, request)
        method = contact_method_save(
            by=request_actor(request),
            user=data.get("user", request.user),
            kind=data["kind"],
            address=data["address"],
            enabled=data.get("enabled", True),
            page_delay_minutes=data.get("page_delay_minutes", 0),
        )
        return Response(ContactMethodSerializer(method).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = validated(ContactMethodUpdateInput, request)
        method = contact_method_save(
            by=request_actor(request),
            user=stored.user,
            method=stored,
            kind=data.get("kind", stored.kind),
            address=data.get("address", stored.address),
            enabled=data.get("enabled", stored.enabled),
            page_delay_minutes=data.get("page_delay_minutes", stored.page_delay_minutes),
        )
        return Response(ContactMethodSerializer(method).data)

    def perform_destroy(self, instance: ContactMethod) -> None:
        contact_method_delete(method=instance, by=request_actor(self.request))
