"""Output serializers: how the API renders sources, alerts, rules, silences and the rule tester's
previews. A source's token is shown once, by the create and rotate-token answers; afterwards only
its first characters (`token_prefix`). The HMAC secret is never shown: responses carry
`hmac_secret_set`."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.choices import AlertStatus, ResponseTrigger
from alerts.models import Alert, AlertRule, AlertSource, AutomatedResponse, Silence, TriggeredRun


class AlertSourceSerializer(serializers.ModelSerializer):
    """A source as shown: never its token or HMAC secret. `hmac_secret_set` is annotated by the
    view's queryset, so listing sources never decrypts a secret."""

    default_service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    hmac_secret_set = serializers.BooleanField(read_only=True)

    class Meta:
        model = AlertSource
        fields = [
            "id",
            "name",
            "slug",
            "kind",
            "token_prefix",
            "hmac_secret_set",
            "default_service",
            "default_service_id",
            "rate_limit_per_minute",
            "max_body_bytes",
            "max_labels",
            "max_label_name_length",
            "max_label_value_length",
            "max_annotation_value_length",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SourceTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown this once: only a hash is stored.")
    webhook_url = serializers.URLField(
        help_text="POST alerts here; or POST to /hooks/<slug>/ with `Authorization: Bearer <token>`."
    )


class AlertSourceCreatedSerializer(AlertSourceSerializer):
    """The answer to a create: the source with its token and ready webhook URL, shown only here."""

    token = serializers.CharField(read_only=True, help_text="Shown this once: only a hash is stored.")
    webhook_url = serializers.URLField(read_only=True, help_text="POST alerts here.")

    class Meta(AlertSourceSerializer.Meta):
        fields = [*AlertSourceSerializer.Meta.fields, "token", "webhook_url"]
        read_only_fields = fields


class TriggeredRunSerializer(serializers.ModelSerializer):
    action = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = TriggeredRun
        fields = ["id", "run_id", "response_id", "action", "status", "trigger", "error", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Action name."))
    def get_action(self, triggered: TriggeredRun) -> str | None:
        if triggered.run is not None:
            return triggered.run.action.name
        if triggered.response is not None:
            return triggered.response.action.name
        return None

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="The run's status; null when no run was requested.")
    )
    def get_status(self, triggered: TriggeredRun) -> str | None:
        return triggered.run.status if triggered.run is not None else None


class RuleMatchRecordSerializer(serializers.Serializer):
    rule = serializers.IntegerField(help_text="Rule id (the rule may have been deleted since).")
    name = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class AlertSerializer(serializers.ModelSerializer):
    """An alert with what processing did to it: the rules it matched and why, its notes, the runs
    its responses requested, and its incident."""

    source = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    rule = serializers.SlugRelatedField(slug_field="name", read_only=True)
    silenced = serializers.SerializerMethodField()
    matches = RuleMatchRecordSerializer(many=True, read_only=True)
    notes = serializers.ListField(child=serializers.CharField(), read_only=True)
    triggered_runs = TriggeredRunSerializer(many=True, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "source",
            "source_id",
            "fingerprint",
            "name",
            "status",
            "severity",
            "labels",
            "annotations",
            "starts_at",
            "ends_at",
            "received_at",
            "last_received_at",
            "occurrence_count",
            "replays",
            "generator_url",
            "extra",
            "service",
            "service_id",
            "incident",
            "incident_id",
            "opened_incident",
            "processed",
            "processed_at",
            "processing_attempts",
            "processing_error",
            "processing_failed_at",
            "silenced",
            "silenced_by_id",
            "matches",
            "rule",
            "rule_id",
            "group_key",
            "notes",
            "triggered_runs",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_silenced(self, alert: Alert) -> bool:
        return alert.silenced_by_id is not None


class AutomatedResponseSerializer(serializers.ModelSerializer):
    action = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = AutomatedResponse
        fields = ["id", "order", "action", "action_id", "trigger", "delay_seconds", "parameters", "enabled"]
        read_only_fields = fields


class AlertRuleSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    priority = serializers.SlugRelatedField(slug_field="code", read_only=True)
    responses = AutomatedResponseSerializer(many=True, read_only=True)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "description",
            "order",
            "enabled",
            "matchers",
            "alert_name",
            "severity",
            "service",
            "service_id",
            "priority",
            "priority_id",
            "incident_policy",
            "group_by",
            "continue_matching",
            "runbook_id",
            "responses",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SilenceSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Silence
        fields = ["id", "matchers", "starts_at", "ends_at", "reason", "active", "created_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(help_text="In force now: starts_at <= now < ends_at."))
    def get_active(self, silence: Silence) -> bool:
        return silence.starts_at <= timezone.now() < silence.ends_at


# The rule tester's answer: what processing would do with each alert of a payload.


class PreviewSilenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()
    ends_at = serializers.DateTimeField()


class PreviewMatchSerializer(serializers.Serializer):
    rule = serializers.IntegerField(source="rule.pk", help_text="Rule id.")
    name = serializers.CharField(source="rule.name")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="One line per check.")


class PreviewResponseSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="Action name.")
    trigger = serializers.ChoiceField(choices=ResponseTrigger.choices)
    delay_seconds = serializers.IntegerField()
    parameters = serializers.DictField(
        child=serializers.CharField(), allow_null=True, help_text="As the run would get them; null on error."
    )
    error = serializers.CharField(allow_blank=True, help_text="Why the parameters could not be rendered.")


class AlertPreviewSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    severity = serializers.CharField(allow_blank=True)
    fingerprint = serializers.CharField()
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True))
    existing_alert = serializers.IntegerField(
        allow_null=True, help_text="The open alert of the source this would repeat or resolve."
    )
    silence = PreviewSilenceSerializer(allow_null=True)
    matches = PreviewMatchSerializer(many=True)
    outcome = serializers.CharField(help_text="What would happen, in a sentence.")
    responses = PreviewResponseSerializer(many=True, help_text="The runs that would be requested, in order.")


class RuleTestResultSerializer(serializers.Serializer):
    alerts = AlertPreviewSerializer(many=True, help_text="One per alert of the payload, in payload order.")
