"""Action runs: what each step did on each host, the snapshot a run executes, and the requests
that start or decide a run."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actions.api.serializers.fields import seconds
from actions.choices import FailurePolicy, StepCondition
from actions.models import ActionRun, StepRun
from common.api.fields import IdOrSlugRelatedField
from common.api.serializers import StrictSerializer
from incidents.models import Incident

User = get_user_model()


def _username_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)


# --- Output -----------------------------------------------------------------------------------


class StepRunSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="name", read_only=True)
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = StepRun
        fields = [
            "id",
            "step_order",
            "step_name",
            "step_id",
            "provider",
            "provider_id",
            "host",
            "command",
            "status",
            "attempts",
            "exit_code",
            "stdout",
            "stderr",
            "stdout_truncated",
            "stderr_truncated",
            "started_at",
            "finished_at",
            "duration_seconds",
            "error",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_duration_seconds(self, step_run: StepRun) -> float | None:
        return seconds(step_run.duration)


class ActionRunSerializer(serializers.ModelSerializer):
    """A run as listed; the detail view adds what each step did on each host."""

    action = serializers.CharField(source="action.name", read_only=True)
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    requested_by = _username_field()
    decided_by = _username_field()
    cancelled_by = _username_field()
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = ActionRun
        fields = [
            "id",
            "action",
            "action_id",
            "status",
            "parameters",
            "incident",
            "incident_id",
            "capture_service_id",
            "requested_by",
            "requested_via",
            "requested_label",
            "require_approval",
            "approval_expires_at",
            "decided_by",
            "decided_at",
            "decision_comment",
            "due_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "cancel_requested_at",
            "cancelled_by",
            "error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_duration_seconds(self, run: ActionRun) -> float | None:
        return seconds(run.duration)


class PlannedHostSerializer(serializers.Serializer):
    provider_id = serializers.IntegerField()
    host = serializers.CharField(help_text="The provider as it was when the run was requested.")


class PlannedStepSerializer(serializers.Serializer):
    step_id = serializers.IntegerField(allow_null=True)
    order = serializers.IntegerField()
    name = serializers.CharField()
    condition = serializers.ChoiceField(choices=StepCondition.choices)
    failure_policy = serializers.ChoiceField(choices=FailurePolicy.choices)
    timeout_seconds = serializers.IntegerField()
    retries = serializers.IntegerField()
    retry_delay_seconds = serializers.IntegerField()
    template = serializers.CharField(help_text="The step's command as written.")
    command = serializers.CharField(help_text="The command that runs, values quoted.")
    target = serializers.CharField()
    hosts = PlannedHostSerializer(many=True)
    max_parallel = serializers.IntegerField()
    error = serializers.CharField(help_text="Why the step cannot run; empty when it can.")


class RunApprovalSerializer(serializers.Serializer):
    required = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class RunSnapshotSerializer(serializers.Serializer):
    """What the run executes, fixed at the request; editing the action since changes none of it."""

    version = serializers.IntegerField()
    action = serializers.DictField(help_text="id, name and risk when requested.")
    approval = RunApprovalSerializer()
    steps = PlannedStepSerializer(many=True)


class ActionRunDetailSerializer(ActionRunSerializer):
    step_runs = StepRunSerializer(many=True, read_only=True)
    snapshot = serializers.SerializerMethodField()

    class Meta(ActionRunSerializer.Meta):
        fields = [*ActionRunSerializer.Meta.fields, "snapshot", "step_runs"]
        read_only_fields = fields

    @extend_schema_field(RunSnapshotSerializer(allow_null=True))
    def get_snapshot(self, run: ActionRun) -> dict | None:
        """None for a run requested before runs kept a snapshot: it does not run."""
        return run.snapshot or None


# --- Input ------------------------------------------------------------------------------------


class RunRequestInput(StrictSerializer):
    parameters = serializers.DictField(
        required=False, help_text="Values by parameter name; defaults fill in what is left out."
    )
    incident = IdOrSlugRelatedField(
        slug_field="reference",
        queryset=Incident.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id or reference of the incident the run is for.",
    )
    require_approval = serializers.BooleanField(
        required=False, help_text="Wait for an approver even if the action is low-risk."
    )
    due_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Start no earlier than this (runs without approval)."
    )


class DecisionInput(StrictSerializer):
    comment = serializers.CharField(required=False, allow_blank=True)
