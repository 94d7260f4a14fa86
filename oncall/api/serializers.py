"""Input serializers check the shape of requests; output serializers render rows. The rules live in
oncall.services, which the views call with the validated data."""

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import serializers

from alerts.models import AlertRule
from common.api.fields import LocalTimeField
from common.api.serializers import StrictSerializer
from incidents.models import Service
from notifications.api.serializers import IdField
from notifications.models import Channel
from oncall.choices import PRIORITY_CODES, RotationUnit
from oncall.models import EscalationPolicy, EscalationStep, Layer, Override, Page, PageStep, Schedule
from oncall.services.schedules import LAYER_FIELDS

User = get_user_model()


def _ids(queryset, help_text: str, required: bool = False) -> serializers.PrimaryKeyRelatedField:
    return IdField(queryset=queryset, many=True, required=required, help_text=help_text)


# --- Output -----------------------------------------------------------------------------------


class LayerSerializer(serializers.ModelSerializer):
    schedule = serializers.PrimaryKeyRelatedField(read_only=True)
    members = serializers.SerializerMethodField(help_text="User ids in turn order.")
    restrict_weekdays = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.TimeField: LocalTimeField,
    }

    class Meta:
        model = Layer
        fields = ["id", "schedule", *LAYER_FIELDS, "members", "created_at", "updated_at"]
        read_only_fields = fields

    def get_members(self, obj: Layer) -> list[int]:
        return [member.user_id for member in obj.members.all()]


class ScheduleSerializer(serializers.ModelSerializer):
    layers = LayerSerializer(many=True, read_only=True)

    class Meta:
        model = Schedule
        fields = ["id", "name", "description", "time_zone", "team", "layers", "created_at", "updated_at"]
        read_only_fields = fields


class OverrideSerializer(serializers.ModelSerializer):
    schedule = serializers.PrimaryKeyRelatedField(read_only=True)
    user = serializers.PrimaryKeyRelatedField(read_only=True)
    replaces = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    created_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Override
        fields = [
            "id",
            "schedule",
            "user",
            "replaces",
            "starts_at",
            "ends_at",
            "reason",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EscalationStepSerializer(serializers.ModelSerializer):
    users = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    schedules = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    channels = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = EscalationStep
        fields = ["position", "delay_minutes", "users", "schedules", "channels", "notify_all_oncall"]
        read_only_fields = fields


class PolicySerializer(serializers.ModelSerializer):
    steps = EscalationStepSerializer(many=True, read_only=True)
    services = serializers.SerializerMethodField(help_text="Service ids that page through this policy.")
    alert_rules = serializers.SerializerMethodField(help_text="Alert rule ids that page through it.")

    class Meta:
        model = EscalationPolicy
        fields = [
            "id",
            "name",
            "description",
            "repeat_count",
            "page_threshold",
            "notify_threshold",
            "steps",
            "services",
            "alert_rules",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_services(self, obj: EscalationPolicy) -> list[int]:
        return [link.service_id for link in obj.service_links.all()]

    def get_alert_rules(self, obj: EscalationPolicy) -> list[int]:
        return [link.rule_id for link in obj.rule_links.all()]


class PageStepRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = PageStep
        fields = ["loop", "position", "due_at", "ran_at", "notified"]
        read_only_fields = fields


class PageSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    incident_reference = serializers.CharField(source="incident.reference", read_only=True)
    policy = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    ended_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    steps = PageStepRunSerializer(many=True, read_only=True)

    class Meta:
        model = Page
        fields = [
            "id",
            "incident",
            "incident_reference",
            "policy",
            "mode",
            "status",
            "loop",
            "position",
            "next_step_at",
            "ended_at",
            "ended_by",
            "end_source",
            "steps",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OnCallUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class OnCallSerializer(serializers.Serializer):
    schedule = serializers.IntegerField()
    at = serializers.DateTimeField()
    users = OnCallUserSerializer(
        many=True, help_text="Who is on call: the top layer's (or override's) person."
    )


class ScheduleOnCallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    users = OnCallUserSerializer(many=True)


class ServiceOnCallSerializer(serializers.Serializer):
    service = serializers.IntegerField()
    service_name = serializers.CharField()
    policy = serializers.IntegerField()
    policy_name = serializers.CharField()
    users = OnCallUserSerializer(many=True, help_text="Named on the policy's first step.")
    schedules = ScheduleOnCallSerializer(
        many=True, help_text="The first step's schedules, with who is on call on each at `at`."
    )


class ServicesOnCallSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    services = ServiceOnCallSerializer(many=True)


class OnCallQuery(StrictSerializer):
    at = serializers.DateTimeField(required=False, help_text="ISO 8601; default: now.")


# --- Input ------------------------------------------------------------------------------------


class ScheduleInput(StrictSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    time_zone = serializers.CharField(max_length=64, help_text="IANA name, e.g. Europe/Berlin.")
    team = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ScheduleUpdateInput(ScheduleInput):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    time_zone = serializers.CharField(max_length=64, required=False)
    team = serializers.CharField(max_length=100, required=False, allow_blank=True)


class LayerInput(StrictSerializer):
    schedule = IdField(queryset=Schedule.objects.all())
    name = serializers.CharField(max_length=100)
    level = serializers.IntegerField(min_value=0, max_value=32767, default=1)
    rotation_unit = serializers.ChoiceField(choices=RotationUnit.choices, default=RotationUnit.WEEKS)
    rotation_length = serializers.IntegerField(min_value=1, max_value=32767, default=1)
    start_date = serializers.DateField()
    handoff_time = LocalTimeField()
    restrict_weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, default=list
    )
    restrict_start_time = LocalTimeField(required=False, allow_null=True, default=None)
    restrict_end_time = LocalTimeField(required=False, allow_null=True, default=None)
    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        help_text="User ids in turn order.",
    )


class LayerUpdateInput(LayerInput):
    schedule = None
    name = serializers.CharField(max_length=100, required=False)
    level = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    rotation_unit = serializers.ChoiceField(choices=RotationUnit.choices, required=False)
    rotation_length = serializers.IntegerField(min_value=1, max_value=32767, required=False)
    start_date = serializers.DateField(required=False)
    handoff_time = LocalTimeField(required=False)
    restrict_weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False
    )
    restrict_start_time = LocalTimeField(required=False, allow_null=True)
    restrict_end_time = LocalTimeField(required=False, allow_null=True)
    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        help_text="User ids in turn order; replaces the members.",
    )


class OverrideInput(StrictSerializer):
    schedule = IdField(queryset=Schedule.objects.all())
    user = IdField(queryset=User.objects.all())
    replaces = IdField(queryset=User.objects.all(), required=False, allow_null=True, default=None)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=200)


class OverrideUpdateInput(OverrideInput):
    schedule = None
    user = IdField(queryset=User.objects.all(), required=False)
    replaces = IdField(queryset=User.objects.all(), required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    reason = serializers.CharField(max_length=200, required=False)


class TakeOverInput(StrictSerializer):
    until = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Default: the end of the current shift."
    )


class EscalationStepInput(StrictSerializer):
    delay_minutes = serializers.IntegerField(min_value=0, max_value=10080, default=0)
    users = _ids(User.objects.all(), "User ids.")
    schedules = _ids(Schedule.objects.all(), "Schedule ids: whoever is on call when the step runs.")
    channels = _ids(Channel.objects.all(), "Notification channel ids.")
    notify_all_oncall = serializers.BooleanField(required=False, default=False)


class PolicyInput(StrictSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    repeat_count = serializers.IntegerField(min_value=0, max_value=100, default=1)
    page_threshold = serializers.ChoiceField(choices=PRIORITY_CODES, default="P2")
    notify_threshold = serializers.ChoiceField(
        choices=[("", "nobody"), *PRIORITY_CODES], allow_blank=True, default="P3"
    )
    steps = EscalationStepInput(many=True, help_text="In order; the first step's delay is 0.")
    services = _ids(Service.objects.all(), "Service ids that page through this policy.")
    alert_rules = _ids(AlertRule.objects.all(), "Alert rule ids that page through this policy.")


class PolicyUpdateInput(PolicyInput):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    repeat_count = serializers.IntegerField(min_value=0, max_value=100, required=False)
    page_threshold = serializers.ChoiceField(choices=PRIORITY_CODES, required=False)
    notify_threshold = serializers.ChoiceField(
        choices=[("", "nobody"), *PRIORITY_CODES], allow_blank=True, required=False
    )
    steps = EscalationStepInput(many=True, required=False, help_text="Replaces the steps, in order.")
