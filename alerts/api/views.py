"""Thin views: every write is one call to alerts.services, every list and detail a queryset from
alerts.selectors, the rule tester one call to alerts.selectors.rules_preview. Domain errors become
{"detail", "code"} responses in common.api.exceptions; model validation errors become field errors."""

from django.db.models import QuerySet
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from alerts import selectors, services
from alerts.api.filters import AlertFilterSet, AlertRuleFilterSet, AlertSourceFilterSet, SilenceFilterSet
from alerts.api.serializers.inputs import (
    AlertRuleCreateInput,
    AlertRuleUpdateInput,
    AlertSourceCreateInput,
    AlertSourceUpdateInput,
    RuleTestInput,
    SilenceCreateInput,
    SilenceUpdateInput,
)
from alerts.api.serializers.output import (
    AlertRuleSerializer,
    AlertSerializer,
    AlertSourceCreatedSerializer,
    AlertSourceSerializer,
    RuleTestResultSerializer,
    SilenceSerializer,
    SourceTokenSerializer,
)
from alerts.models import Alert, AlertRule, AlertSource, Silence
from alerts.parsers import PayloadError
from alerts.services.processing import alert_incident_create
from common.api.actors import request_actor
from common.api.fields import is_id
from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN, PARSERS, WRITE_ERRORS, validated
from incidents import selectors as incident_selectors
from incidents.api.serializers import IncidentDetailSerializer

ALREADY_LINKED = OpenApiResponse(
    ErrorSerializer, description="Conflict: the alert already belongs to an incident (detail names it)."
)


class ListFiltersOnly:
    """Query parameters filter the list only, never the object an action works on."""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset


# --- Sources ----------------------------------------------------------------------------------


def webhook_url(request: Request, token: str) -> str:
    return request.build_absolute_uri(reverse("alerts:webhook", args=[token]))


def _source_lookup(view: viewsets.GenericViewSet) -> None:
    # A source is named by id or by slug in the URL, as sources are in filters and the tester.
    value = view.kwargs[view.lookup_url_kwarg or view.lookup_field]
    if not is_id(value):
        view.lookup_field = "slug"
        view.kwargs["slug"] = value


@extend_schema_view(
    list=extend_schema(summary="List alert sources; tokens and HMAC secrets are never shown"),
    retrieve=extend_schema(
        summary="An alert source (by id or slug); only the token's first characters are shown"
    ),
    create=extend_schema(
        summary="Add an alert source; the answer carries its token and webhook URL, shown only this once",
        request=AlertSourceCreateInput,
        responses={201: AlertSourceCreatedSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit an alert source; an HMAC secret left out is kept, an empty one removes it",
        request=AlertSourceUpdateInput,
        responses={200: AlertSourceSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete an alert source with its payloads and alerts (incidents stay)",
        responses={204: None, 403: FORBIDDEN},
    ),
)
class AlertSourceViewSet(
    ListFiltersOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AlertSourceSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = AlertSourceFilterSet
    lookup_value_regex = r"[-\w]+"
    action_permissions = {"rotate_token": ["alerts.change_alertsource"]}

    def get_queryset(self) -> QuerySet[AlertSource]:
        if self.action in ("list", "retrieve"):
            return selectors.alert_source_list()
        # Writes go to services, which may need the secret.
        return AlertSource.objects.all()

    def get_object(self) -> AlertSource:
        _source_lookup(self)
        return super().get_object()

    def source_response(self, source: AlertSource, status_code: int = status.HTTP_200_OK) -> Response:
        source = selectors.alert_source_list().get(pk=source.pk)
        return Response(AlertSourceSerializer(source).data, status=status_code)

    def create(self, request: Request) -> Response:
        source, token = services.alert_source_create(
            by=request_actor(request), **validated(AlertSourceCreateInput, request)
        )
        source = selectors.alert_source_list().get(pk=source.pk)
        source.token = token
        source.webhook_url = webhook_url(request, token)
        return Response(AlertSourceCreatedSerializer(source).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        source = self.get_object()
        data = validated(AlertSourceUpdateInput, request)
        source = services.alert_source_update(source=source, by=request_actor(request), data=data)
        return self.source_response(source)

    def perform_destroy(self, instance: AlertSource) -> None:
        services.alert_source_delete(source=instance, by=request_actor(self.request))

    @extend_schema(
        summary="Replace the source's token: the old one stops working at once",
        description="The answer carries the new token and webhook URL, shown only this once. Update "
        "the monitoring system's receiver with them.",
        request=None,
        responses={200: SourceTokenSerializer, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request: Request, pk: str) -> Response:
        token = services.alert_source_rotate_token(source=self.get_object(), by=request_actor(request))
        body = {"token": token, "webhook_url": webhook_url(request, token)}
        return Response(SourceTokenSerializer(body).data)


# --- Alerts -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List alerts, most recently received first"),
    retrieve=extend_schema(summary="An alert with its rule matches, notes and triggered runs"),
)
class AlertViewSet(ListFiltersOnly, viewsets.ReadOnlyModelViewSet):
    serializer_class = AlertSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = AlertFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {"create_incident": ["alerts.view_alert", "incidents.add_incident"]}

    def get_queryset(self) -> QuerySet[Alert]:
        if self.action in ("list", "retrieve"):
            return selectors.alert_list()
        return Alert.objects.all()

    @extend_schema(
        summary="Open an incident from an alert no rule opened one for",
        description="The incident takes the alert's service, the priority its rules or severity map "
        "to, and its timestamps. An alert that already belongs to an incident is refused (400).",
        request=None,
        responses={201: IncidentDetailSerializer, 403: FORBIDDEN, 409: ALREADY_LINKED},
    )
    @action(detail=True, methods=["post"], url_path="create-incident")
    def create_incident(self, request: Request, pk: str) -> Response:
        incident = alert_incident_create(alert=self.get_object(), by=request_actor(request))
        incident = incident_selectors.incident_detail_queryset().get(pk=incident.pk)
        serializer = IncidentDetailSerializer(incident, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)


# --- Rules ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List alert rules in the order they are tried"),
    retrieve=extend_schema(summary="An alert rule with its automated responses in order"),
    create=extend_schema(
        summary="Add an alert rule with its automated responses",
        description="Errors inside a response are keyed `responses.N.field`, N counting from 1.",
        request=AlertRuleCreateInput,
        responses={201: AlertRuleSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit an alert rule; `responses`, when sent, replaces every response in that order",
        description="Errors inside a response are keyed `responses.N.field`, N counting from 1.",
        request=AlertRuleUpdateInput,
        responses={200: AlertRuleSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete an alert rule and its responses; alerts keep the record of their matches",
        responses={204: None, 403: FORBIDDEN},
    ),
)
class AlertRuleViewSet(
    ListFiltersOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AlertRuleSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = AlertRuleFilterSet
    lookup_value_regex = r"\d+"
    # The tester reads rules and writes nothing: seeing the rules is enough.
    action_permissions = {"rules_test": ["alerts.view_alertrule"]}

    def get_queryset(self) -> QuerySet[AlertRule]:
        if self.action in ("list", "retrieve"):
            return selectors.alert_rule_list()
        return AlertRule.objects.all()

    def rule_response(self, rule: AlertRule, status_code: int = status.HTTP_200_OK) -> Response:
        rule = selectors.alert_rule_list().get(pk=rule.pk)
        return Response(AlertRuleSerializer(rule).data, status=status_code)

    def save(self, request: Request, input_class: type[Serializer], rule: AlertRule | None) -> AlertRule:
        data = validated(input_class, request)
        responses = data.pop("responses", None)
        if responses is not None:
            responses = [dict(response) for response in responses]
        return services.alert_rule_save(by=request_actor(request), rule=rule, data=data, responses=responses)

    def create(self, request: Request) -> Response:
        return self.rule_response(self.save(request, AlertRuleCreateInput, None), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.rule_response(self.save(request, AlertRuleUpdateInput, self.get_object()))

    def perform_destroy(self, instance: AlertRule) -> None:
        services.alert_rule_delete(by=request_actor(self.request), rule=instance)

    @extend_schema(
        summary="Test the rules on a payload: what would match and happen, without side effects",
        description="The payload goes through the source kind's parser, the silences and the enabled "
        "rules; nothing is stored or triggered. A payload the webhook would refuse is 400 with the "
        "parser's message under `payload`.",
        request=RuleTestInput,
        responses={200: RuleTestResultSerializer, 400: BAD_INPUT, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["post"], url_path="test", url_name="test")
    def rules_test(self, request: Request) -> Response:
        data = validated(RuleTestInput, request)
        try:
            previews = selectors.rules_preview(
                kind=data["kind"], raw=data["payload"], source=data.get("source")
            )
        except PayloadError as exc:
            raise ValidationError({"payload": [str(exc)]}) from exc
        return Response(RuleTestResultSerializer({"alerts": previews}).data)


# --- Silences ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List silences (maintenance windows), latest start first"),
    retrieve=extend_schema(summary="A silence"),
    create=extend_schema(
        summary="Silence alerts matching labels for a while: they are stored but trigger nothing",
        request=SilenceCreateInput,
        responses={201: SilenceSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a silence's matchers, window or reason",
        request=SilenceUpdateInput,
        responses={200: SilenceSerializer, **WRITE_ERRORS},
    ),
)
class SilenceViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = SilenceSerializer
    parser_classes = PARSERS
    filter_backends = [DjangoFilterBackend]
    filterset_class = SilenceFilterSet
    lookup_value_regex = r"\d+"
    action_permissions = {"expire": ["alerts.change_silence"]}

    def get_queryset(self) -> QuerySet[Silence]:
        return selectors.silence_list()

    def silence_response(self, silence: Silence, status_code: int = status.HTTP_200_OK) -> Response:
        silence = self.get_queryset().get(pk=silence.pk)
        return Response(SilenceSerializer(silence).data, status=status_code)

    def create(self, request: Request) -> Response:
        data = validated(SilenceCreateInput, request)
        silence = services.silence_save(by=request_actor(request), data=data)
        return self.silence_response(silence, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        silence = self.get_object()
        data = validated(SilenceUpdateInput, request)
        silence = services.silence_save(by=request_actor(request), silence=silence, data=data)
        return self.silence_response(silence)

    @extend_schema(
        summary="End a silence now; it stays on record (one already over is left as it is)",
        request=None,
        responses={200: SilenceSerializer, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"])
    def expire(self, request: Request, pk: str) -> Response:
        silence = services.silence_expire(by=request_actor(request), silence=self.get_object())
        return self.silence_response(silence)
