"""Drills in the API: read serializers built from the selectors, input serializers for each write."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actions.models import Action
from alerts.models import AlertSource
from drills.choices import ScenarioKind, StartMode
from drills.models import DrillReport, DrillRun, DrillScenario
from drills.selectors import drill_incident, drill_responders, drill_timings
from incidents.models import Priority, Service
from notifications.api.serializers import IdField


class DrillTimingsSerializer(serializers.Serializer):
    detect_seconds = serializers.FloatField(allow_null=True)
    acknowledge_seconds = serializers.FloatField(allow_null=True)
    first_action_seconds = serializers.FloatField(allow_null=True)
    resolve_seconds = serializers.FloatField(allow_null=True)


class DrillIncidentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()


class DrillScenarioSerializer(serializers.ModelSerializer):
    priority = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = DrillScenario
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "simulated",
            "expected_response",
            "start_mode",
            "source",
            "alert_labels",
            "alert_annotations",
            "priority",
            "services",
            "injection_action",
            "injection_parameters",
            "cleanup_action",
            "cleanup_parameters",
            "enabled",
        ]
        read_only_fields = fields


class DrillScenarioInput(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    kind = serializers.ChoiceField(choices=ScenarioKind.choices, default=ScenarioKind.CUSTOM)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    simulated = serializers.CharField(required=False, allow_blank=True, default="")
    expected_response = serializers.CharField(required=False, allow_blank=True, default="")
    start_mode = serializers.ChoiceField(choices=StartMode.choices, default=StartMode.DIRECT)
    source = IdField(queryset=AlertSource.objects.all(), required=False, allow_null=True, default=None)
    alert_labels = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    alert_annotations = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    priority = serializers.SlugRelatedField(
        slug_field="code", queryset=Priority.objects.all(), required=False, allow_null=True, default=None
    )
    services = serializers.ListField(
        child=IdField(queryset=Service.objects.all()), required=False, default=list
    )
    injection_action = IdField(queryset=Action.objects.all(), required=False, allow_null=True, default=None)
    injection_parameters = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    cleanup_action = IdField(queryset=Action.objects.all(), required=False, allow_null=True, default=None)
    cleanup_parameters = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    enabled = serializers.BooleanField(required=False, default=True)


class DrillScenarioUpdateInput(DrillScenarioInput):
    """PATCH: only the fields given change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class DrillRunSerializer(serializers.ModelSerializer):
    scenario_name = serializers.CharField(source="scenario.name", read_only=True)
    incident = serializers.SerializerMethodField()
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    timings = serializers.SerializerMethodField()
    report = serializers.SerializerMethodField()

    class Meta:
        model = DrillRun
        fields = [
            "id",
            "scenario",
            "scenario_name",
            "status",
            "incident",
            "alert",
            "started_by",
            "started_at",
            "ended_at",
            "cancel_reason",
            "participants",
            "injection_run",
            "cleanup_run",
            "timings",
            "report",
        ]
        read_only_fields = fields

    @extend_schema_field(DrillIncidentRefSerializer(allow_null=True))
    def get_incident(self, run: DrillRun) -> dict | None:
        incident = drill_incident(run)
        if incident is None:
            return None
        return {"id": incident.pk, "reference": incident.reference, "status": incident.status}

    @extend_schema_field(DrillTimingsSerializer)
    def get_timings(self, run: DrillRun) -> dict:
        return drill_timings(run).as_seconds()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_report(self, run: DrillRun) -> int | None:
        report = getattr(run, "report", None)
        return report.pk if report else None


class DrillRunStartInput(serializers.Serializer):
    scenario = IdField(queryset=DrillScenario.objects.all())
    participants = serializers.ListField(
        child=IdField(queryset=get_user_model().objects.filter(is_active=True)), required=False, default=list
    )


class DrillRunCancelInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class DrillResponderSerializer(serializers.Serializer):
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    first_at = serializers.DateTimeField()


class DrillReportListSerializer(serializers.ModelSerializer):
    """A list row; who responded is read from each incident's timeline, so only the detail has it."""

    scenario = serializers.CharField(source="run.scenario.name", read_only=True)
    kind = serializers.CharField(source="run.scenario.kind", read_only=True)
    status = serializers.CharField(source="run.status", read_only=True)
    timings = serializers.SerializerMethodField()

    class Meta:
        model = DrillReport
        fields = [
            *("id", "run", "scenario", "kind", "status", "timings"),
            *("observations", "score", "improvements"),
        ]
        read_only_fields = fields

    @extend_schema_field(DrillTimingsSerializer)
    def get_timings(self, report: DrillReport) -> dict:
        return drill_timings(report.run).as_seconds()


class DrillReportSerializer(DrillReportListSerializer):
    responders = serializers.SerializerMethodField()

    class Meta(DrillReportListSerializer.Meta):
        fields = [*DrillReportListSerializer.Meta.fields, "responders"]
        read_only_fields = fields

    @extend_schema_field(DrillResponderSerializer(many=True))
    def get_responders(self, report: DrillReport) -> list[dict]:
        return [DrillResponderSerializer(r).data for r in drill_responders(report.run)]


class DrillReportInput(serializers.Serializer):
    observations = serializers.CharField(required=False, allow_blank=True)
    score = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10)
    improvements = serializers.CharField(required=False, allow_blank=True)
