"""Runbooks with their steps and kept versions, and the services' state capture actions."""

from typing import Any

from rest_framework import serializers

from actions.models import Action, Runbook, RunbookStep, RunbookVersion, ServiceCapture
from common.api.fields import IdOrSlugRelatedField
from common.api.serializers import StrictSerializer
from incidents.models import Service

# --- Output ------------------------------------------------------------------------------------


class RunbookStepSerializer(serializers.ModelSerializer):
    action = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = RunbookStep
        fields = ["position", "text", "action", "action_id", "parameters"]
        read_only_fields = fields


class RunbookSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    steps = RunbookStepSerializer(many=True, read_only=True)

    class Meta:
        model = Runbook
        fields = [
            "id",
            "title",
            "service",
            "summary",
            "version",
            "updated_by",
            "steps",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RunbookVersionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RunbookVersion
        fields = ["number", "title", "summary", "steps", "author", "author_name", "created_at"]
        read_only_fields = fields


class ServiceCaptureSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    action = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = ServiceCapture
        fields = ["id", "service", "action", "action_id", "parameters", "enabled", "created_at", "updated_at"]
        read_only_fields = fields


# --- Input -------------------------------------------------------------------------------------


class RunbookStepInput(StrictSerializer):
    text = serializers.CharField(help_text="Markdown.")
    action = IdOrSlugRelatedField(
        slug_field="name",
        queryset=Action.objects.all(),
        required=False,
        allow_null=True,
        help_text="Action id or name.",
    )
    parameters = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text='Parameters filled from the incident, e.g. {"host": "{{ alert.labels.instance }}"}.',
    )


class RunbookUpdateInput(StrictSerializer):
    """A partial edit; `steps`, when sent, replaces every step in that order. Each save is a version.

    Errors inside a step are keyed `steps.N.field`, N counting from 1."""

    title = serializers.CharField(max_length=200, required=False)
    service = IdOrSlugRelatedField(
        slug_field="slug",
        queryset=Service.objects.all(),
        required=False,
        allow_null=True,
        help_text="Service id or slug.",
    )
    summary = serializers.CharField(required=False, allow_blank=True, help_text="Markdown.")
    steps = RunbookStepInput(many=True, required=False)

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(flatten_step_errors(exc.detail)) from exc


class RunbookCreateInput(RunbookUpdateInput):
    title = serializers.CharField(max_length=200)


class ServiceCaptureInput(StrictSerializer):
    service = IdOrSlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), help_text="Service id or slug."
    )
    action = IdOrSlugRelatedField(
        slug_field="name",
        queryset=Action.objects.all(),
        required=False,
        allow_null=True,
        help_text="Action id or name; left out: the action made from the Health check template.",
    )
    parameters = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    enabled = serializers.BooleanField(required=False, default=True)


def flatten_step_errors(detail: Any) -> Any:
    """DRF nests step errors by position from 0 (a list, or a dict of the failing ones); the service
    keys them `steps.N.field` from 1. Errors about the list itself stay under `steps`."""
    if not isinstance(detail, dict) or "steps" not in detail:
        return detail
    steps = detail["steps"]
    if isinstance(steps, list):
        if not all(isinstance(e, dict) for e in steps):
            return detail
        steps = dict(enumerate(steps))
    if not isinstance(steps, dict):
        return detail
    flat = {k: v for k, v in detail.items() if k != "steps"}
    for position, errors in steps.items():
        if isinstance(position, int) and isinstance(errors, dict):
            for field, messages in errors.items():
                flat[f"steps.{position + 1}.{field}"] = messages
        else:
            flat.setdefault("steps", []).extend(errors if isinstance(errors, list) else [errors])
    return flat
