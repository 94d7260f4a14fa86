"""Input serializers check the shape of requests; output serializers render rows. The rules live
in actions.services, which the views call with the validated data.

Provider secrets (private key, passphrase, password) are write-only: no output serializer has a
field that could carry them, only `<secret>_set` booleans annotated by the view's queryset."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actions.choices import (
    AuthMethod,
    Category,
    FailurePolicy,
    ProviderKind,
    Risk,
    StepCondition,
    TargetKind,
)
from actions.models import Action, ActionRun, ActionStep, Provider, ProviderGroup, StepRun
from actions.runners.hostkeys import host_key_fingerprint
from actions.selectors import action_success_rate
from common.api.fields import IdOrSlugRelatedField
from common.api.serializers import StrictSerializer
from incidents.models import Incident, Service

User = get_user_model()


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _tags_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=50), **kwargs)


def _username_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)


# --- Output -----------------------------------------------------------------------------------


class ProviderSerializer(serializers.ModelSerializer):
    """A provider as shown: never its secrets, only whether each is set. Rows come from the view's
    queryset, which annotates the `*_set` flags without reading the secrets."""

    private_key_set = serializers.BooleanField(read_only=True)
    passphrase_set = serializers.BooleanField(read_only=True)
    password_set = serializers.BooleanField(read_only=True)
    host_key_fingerprint = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = [
            "id",
            "name",
            "kind",
            "address",
            "port",
            "username",
            "auth_method",
            "private_key_set",
            "passphrase_set",
            "password_set",
            "use_sudo",
            "connect_timeout",
            "host_key",
            "host_key_fingerprint",
            "tags",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True, help_text='"SHA256:...", as ssh-keygen -l.'))
    def get_host_key_fingerprint(self, provider: Provider) -> str | None:
        if not provider.host_key:
            return None
        try:
            return host_key_fingerprint(provider.host_key)
        except ValueError:
            return None


class ProviderGroupSerializer(serializers.ModelSerializer):
    providers = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text="Provider ids.")

    class Meta:
        model = ProviderGroup
        fields = [
            "id",
            "name",
            "description",
            "providers",
            "tag_selector",
            "max_parallel",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


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
        return _seconds(getattr(action, "average_duration", None))


class ActionDetailSerializer(ActionSerializer):
    steps = ActionStepSerializer(many=True, read_only=True)

    class Meta(ActionSerializer.Meta):
        fields = [*ActionSerializer.Meta.fields, "steps"]
        read_only_fields = fields


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
        return _seconds(step_run.duration)


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
        return _seconds(run.duration)


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


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField(allow_null=True, help_text="Time to connect and authenticate.")
    error = serializers.CharField(allow_blank=True, help_text="Why it failed; empty when ok.")


class HostKeySerializer(serializers.Serializer):
    host_key = serializers.CharField(help_text='"<type> <base64>", as stored on the provider.')
    fingerprint = serializers.CharField(help_text='"SHA256:...", the form ssh-keygen -l prints.')


# --- Input ------------------------------------------------------------------------------------


def _secret_field(**kwargs) -> serializers.CharField:
    # Never trimmed (a password may end in a space) and never rendered back.
    return serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        **kwargs,
    )


class ProviderUpdateInput(StrictSerializer):
    """A partial edit: the fields sent, and only those, go to provider_save. A secret left out is
    kept; an empty string clears it. Host keys are set through fetch-host-key and pin-host-key."""

    name = serializers.CharField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=ProviderKind.choices, required=False)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    username = serializers.CharField(max_length=100, required=False, allow_blank=True)
    auth_method = serializers.ChoiceField(choices=AuthMethod.choices, required=False)
    private_key = _secret_field(help_text="OpenSSH or PEM private key. Write-only.")
    passphrase = _secret_field(help_text="Passphrase of the private key. Write-only.")
    password = _secret_field(help_text="Write-only.")
    use_sudo = serializers.BooleanField(required=False)
    connect_timeout = serializers.IntegerField(min_value=1, max_value=300, required=False)
    tags = _tags_field(required=False)
    enabled = serializers.BooleanField(required=False)


class ProviderCreateInput(ProviderUpdateInput):
    name = serializers.CharField(max_length=100)


class HostKeyPinInput(StrictSerializer):
    host_key = serializers.CharField(help_text='The key fetch-host-key returned: "<type> <base64>".')
    fingerprint = serializers.CharField(
        help_text="The fingerprint the user confirmed; it must match the key, or nothing is pinned."
    )


class ProviderGroupUpdateInput(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    providers = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.all(),
        many=True,
        required=False,
        help_text="Provider ids; replaces the list.",
    )
    tag_selector = _tags_field(
        required=False, help_text="Providers carrying all of these tags belong to the group too."
    )
    max_parallel = serializers.IntegerField(min_value=1, required=False)


class ProviderGroupCreateInput(ProviderGroupUpdateInput):
    name = serializers.CharField(max_length=100)


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
    tags = _tags_field(required=False)
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
