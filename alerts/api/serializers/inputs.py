"""Input serializers check the shape of requests; the rules live in alerts.services (and the
models' clean()), which the views call with the validated data. The HMAC secret is write-only."""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actions.models import Action, Runbook
from alerts.choices import IncidentPolicy, MatcherOp, ResponseTrigger, SourceKind
from alerts.models import AlertSource
from common.api.fields import IdOrSlugRelatedField
from common.api.serializers import StrictSerializer
from incidents.models import Priority, Service


def _service_field(**kwargs) -> IdOrSlugRelatedField:
    return IdOrSlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), required=False, allow_null=True, **kwargs
    )


class AlertSourceUpdateInput(StrictSerializer):
    """A partial edit: the fields sent, and only those, go to alert_source_update. The token changes
    only through rotate-token. An HMAC secret left out is kept; an empty one stops signature checks."""

    name = serializers.CharField(max_length=100, required=False)
    slug = serializers.SlugField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    hmac_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Grafana's signing secret (X-Grafana-Alerting-Signature). Write-only.",
    )
    default_service = _service_field(help_text="Service id or slug for alerts no rule assigns.")
    rate_limit_per_minute = serializers.IntegerField(min_value=0, required=False)
    max_body_bytes = serializers.IntegerField(min_value=1, required=False)
    max_labels = serializers.IntegerField(
        min_value=1, required=False, help_text="Most labels, and most annotations, one alert may carry."
    )
    max_label_name_length = serializers.IntegerField(
        min_value=1, required=False, help_text="Longest label or annotation name, in characters."
    )
    max_label_value_length = serializers.IntegerField(
        min_value=1, required=False, help_text="Longest label value, in characters."
    )
    max_annotation_value_length = serializers.IntegerField(
        min_value=1, required=False, help_text="Longest annotation value, in characters."
    )
    enabled = serializers.BooleanField(required=False)


class AlertSourceCreateInput(AlertSourceUpdateInput):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(max_length=100, required=False, help_text="Default: from the name.")
    kind = serializers.ChoiceField(choices=SourceKind.choices)


class MatcherInput(serializers.Serializer):
    """The documented shape of a matcher; the model checks the list itself (see alerts.matching)."""

    label = serializers.CharField()
    op = serializers.ChoiceField(choices=MatcherOp.choices)
    value = serializers.CharField(required=False, help_text="Not for op exists; regex is a full match.")


@extend_schema_field(MatcherInput(many=True))
class MatchersField(serializers.JSONField):
    """Passed to the service as sent, so its messages ("Matcher 2: unknown op ...") are the ones the
    admin shows too, under the `matchers` key."""


class ResponseInput(StrictSerializer):
    """One automated response; its position in the list is its order."""

    action = IdOrSlugRelatedField(
        slug_field="name", queryset=Action.objects.all(), help_text="Action id or name."
    )
    trigger = serializers.ChoiceField(choices=ResponseTrigger.choices, required=False)
    delay_seconds = serializers.IntegerField(min_value=0, required=False, help_text="For after_delay.")
    parameters = serializers.JSONField(
        required=False,
        help_text='Action parameter -> value template, e.g. {"host": "{{ alert.labels.instance }}"}. '
        "A parameter filled from the alert must declare an allow-list pattern on the action.",
    )
    enabled = serializers.BooleanField(required=False)


class AlertRuleUpdateInput(StrictSerializer):
    """A partial edit. `responses`, when sent, replaces every response in the order given.

    Errors inside a response are keyed `responses.N.field`, N counting from 1."""

    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    order = serializers.IntegerField(required=False, help_text="Lower runs first.")
    enabled = serializers.BooleanField(required=False)
    matchers = MatchersField(required=False, help_text="All must hold; empty matches any alert.")
    alert_name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    severity = serializers.CharField(max_length=50, required=False, allow_blank=True)
    service = _service_field(help_text="Service id or slug set on matching alerts.")
    priority = IdOrSlugRelatedField(
        slug_field="code",
        queryset=Priority.objects.all(),
        required=False,
        allow_null=True,
        help_text='Priority id or code ("P2"); null: mapped from the alert\'s severity.',
    )
    incident_policy = serializers.ChoiceField(choices=IncidentPolicy.choices, required=False)
    group_by = serializers.JSONField(
        required=False, help_text="Label names grouping alerts into one incident (policy attach)."
    )
    continue_matching = serializers.BooleanField(required=False)
    runbook = serializers.PrimaryKeyRelatedField(
        queryset=Runbook.objects.all(),
        required=False,
        allow_null=True,
        help_text="Runbook id: shown on the incidents the rule's alerts open or join.",
    )
    responses = ResponseInput(many=True, required=False)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(_flatten_list_errors(exc.detail, "responses")) from exc


class AlertRuleCreateInput(AlertRuleUpdateInput):
    name = serializers.CharField(max_length=100)


def _flatten_list_errors(detail: Any, key: str) -> Any:
    """DRF nests item errors by position ({1: {"action": [...]}}, counting from 0); key them
    `responses.2.action` like alert_rule_save does, so a client reads one convention whichever
    layer refused the item. Errors about the list itself stay under `responses`."""
    if not isinstance(detail, Mapping) or key not in detail:
        return detail
    items = detail[key]
    flat = {name: value for name, value in detail.items() if name != key}
    if isinstance(items, list):
        if not all(isinstance(errors, Mapping) for errors in items):
            flat[key] = items
            return flat
        items = dict(enumerate(items))
    for position, errors in items.items():
        if isinstance(position, int) and isinstance(errors, Mapping):
            for field, messages in errors.items():
                flat[f"{key}.{position + 1}.{field}"] = messages
        else:
            flat.setdefault(key, []).extend(errors if isinstance(errors, list) else [errors])
    return flat


class SilenceUpdateInput(StrictSerializer):
    matchers = MatchersField(required=False, help_text="All must hold; at least one.")
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False, help_text="Exclusive.")
    reason = serializers.CharField(required=False)


class SilenceCreateInput(SilenceUpdateInput):
    matchers = MatchersField(help_text="All must hold; at least one.")
    starts_at = serializers.DateTimeField(default=timezone.now, help_text="Default: now.")
    ends_at = serializers.DateTimeField(help_text="Exclusive.")
    reason = serializers.CharField()


class RuleTestInput(StrictSerializer):
    kind = serializers.ChoiceField(
        choices=SourceKind.choices, required=False, help_text="Payload format; default: the source's kind."
    )
    payload = serializers.JSONField(help_text="A webhook body, as the monitoring system would post it.")
    source = IdOrSlugRelatedField(
        slug_field="slug",
        queryset=AlertSource.objects.all(),
        required=False,
        allow_null=True,
        help_text="Source id or slug: its default service, and its open alerts to repeat or resolve.",
    )

    def validate(self, attrs: dict) -> dict:
        source = attrs.get("source")
        if not attrs.get("kind"):
            if source is None:
                raise serializers.ValidationError({"kind": ["Give the payload's kind, or a source."]})
            attrs["kind"] = source.kind
        return attrs
