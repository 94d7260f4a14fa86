"""Actions and their ordered steps."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actions.api.serializers.fields import seconds, tags_field
from actions.choices import Category, FailurePolicy, Risk, StepCondition, TargetKind
from actions.models import Action, ActionStep, Provider, ProviderGroup
from actions.selectors import action_success_rate
from common.api.fields import IdOrSlugRelatedField
from common.api.serializers import StrictSerializer
from incidents.models import Service

# --- Output -----------------------------------------------------------------------------------


class ActionStepSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="name", read_only=True)
    provider_group = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = ActionStep
        fields = [
            "id",
            "order",
            "name",
            "target_kind",
            "provider",
            "provider_id",
            "provider_group",
            "provider_group_id",
            "target_parameter",
            "command",
            "timeout_seconds",
            "retries",
            "retry_delay_seconds",
            "condition",
            "failure_policy",
        ]
        read_only_fields = fields


class ActionSerializer(serializers.ModelSerializer):
    """An action as listed, with its statistics (annotated by actions.selectors)."""

    estimated_duration = serializers.DurationField(format="iso-8601", read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    run_count = serializers.IntegerField(read_only=True)
    success_rate = serializers.SerializerMethodField()
    average_duration_seconds = serializers.SerializerMethodField()
    last_run_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Action
        fields = [
            "id",
            "name",
            "description",
            "category",
            "tags",
            "estimated_duration",
            "risk",
            "parameters",
            "services",
            "template_key",
            "enabled",
            "run_count",
            "success_rate",
            "average_duration_seconds",
            "last_run_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.FloatField(
            allow_null=True, help_text="Succeeded / runs that reached a result (0..1); null before any."
        )
    )
    def get_success_rate(self, action: Action) -> float | None:
        return action_success_rate(action)

    @extend_schema_field(
        serializers.FloatField(allow_null=True, help_text="Mean duration of runs that reached a result.")
    )
    def get_average_duration_seconds(self, action: Action) -> float | None:
        return seconds(getattr(action, "average_duration", None))


class ActionDetailSerializer(ActionSerializer):
    steps = ActionStepSerializer(many=True, read_only=True)

    class Meta(ActionSerializer.Meta):
        fields = [*ActionSerializer.Meta.fields, "steps"]
        read_only_fields = fields


# --- Input ------------------------------------------------------------------------------------


class StepInput(StrictSerializer):
    """One step; its position in the list is its order. Fields left out take the model default."""

    name = serializers.CharField(max_length=100)
    target_kind = serializers.ChoiceField(choices=TargetKind.choices, required=False)
    provider = IdOrSlugRelatedField(
        slug_field="name",
        queryset=Provider.objects.all(),
        required=False,
        allow_null=True,
        help_text="Provider id or name (target_kind provider).",
    )
    provider_group = IdOrSlugRelatedField(
        slug_field="name",
        queryset=ProviderGroup.objects.all(),
        required=False,
        allow_null=True,
        help_text="Provider group id or name (target_kind group).",
    )
    target_parameter = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        help_text="The parameter naming the host (target_kind trigger).",
    )
    command = serializers.CharField(
        trim_whitespace=False,
        help_text="{{ params.name }} and {{ incident.reference }} are shell-quoted: write each as a whole "
        "word (or name={{ params.x }}), never inside quotes, $(...), a heredoc or sh -c.",
    )
    timeout_seconds = serializers.IntegerField(min_value=1, required=False)
    retries = serializers.IntegerField(min_value=0, max_value=10, required=False)
    retry_delay_seconds = serializers.IntegerField(min_value=0, required=False)
    condition = serializers.ChoiceField(choices=StepCondition.choices, required=False)
    failure_policy = serializers.ChoiceField(choices=FailurePolicy.choices, required=False)


class ParameterDeclarationInput(serializers.Serializer):
    """The documented shape of a parameter declaration; action_save checks the list itself."""

    name = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    default = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    required = serializers.BooleanField(required=False)
    pattern = serializers.CharField(required=False, allow_blank=True, help_text="Full-match regex.")


@extend_schema_field(ParameterDeclarationInput(many=True))
class ParameterDeclarationsField(serializers.ListField):
    """A list passed to action_save as sent, items unchecked here, so its messages (an item that is
    not an object, duplicate names, bad patterns) are the ones the admin shows too."""


class ActionUpdateInput(StrictSerializer):
    """A partial edit. `steps`, when sent, replaces every step in the order given.

    Errors inside a step are keyed `steps.N.field`, N counting from 1, as action_save reports them."""

    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    tags = tags_field(required=False)
    estimated_duration = serializers.DurationField(
        required=False, min_value=timedelta(0), help_text='ISO 8601 ("PT5M") or "HH:MM:SS".'
    )
    risk = serializers.ChoiceField(choices=Risk.choices, required=False)
    parameters = ParameterDeclarationsField(required=False)
    services = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), many=True, required=False, help_text="Slugs."
    )
    enabled = serializers.BooleanField(required=False)
    steps = StepInput(many=True, required=False)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(_flatten_step_errors(exc.detail)) from exc


class ActionCreateInput(ActionUpdateInput):
    name = serializers.CharField(max_length=100)
    steps = StepInput(many=True, allow_empty=False)


def _flatten_step_errors(detail: Any) -> Any:
    """DRF nests step errors by position ({1: {"command": [...]}}, counting from 0); make them
    `steps.2.command` like the service's, so a client reads one convention whichever layer refused
    the step. Errors about the list itself (missing, empty, not a list) stay under `steps`."""
    if not isinstance(detail, Mapping) or "steps" not in detail:
        return detail
    steps = detail["steps"]
    flat = {key: value for key, value in detail.items() if key != "steps"}
    if isinstance(steps, list):
        if not all(isinstance(errors, Mapping) for errors in steps):
            flat["steps"] = steps
            return flat
        steps = dict(enumerate(steps))
    for position, errors in steps.items():
        if isinstance(position, int) and isinstance(errors, Mapping):
            for field, messages in errors.items():
                flat[f"steps.{position + 1}.{field}"] = messages
        else:
            flat.setdefault("steps", []).extend(errors if isinstance(errors, list) else [errors])
    return flat
