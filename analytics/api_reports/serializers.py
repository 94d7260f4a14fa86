"""Reports in the API: input serializers check the shape, analytics.services.reports checks the
rest (known services and priorities, a valid crontab) and writes."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from analytics.models import Report, ReportGroupBy, ReportMetric, ReportRange, ReportRun, ReportType
from analytics.services.reports import crontab_text
from common.api.serializers import StrictSerializer

User = get_user_model()

# --- Parameters -----------------------------------------------------------------------------------


class ReportFiltersSerializer(StrictSerializer):
    services = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Service slugs."
    )
    service_types = serializers.ListField(child=serializers.CharField(), required=False)
    teams = serializers.ListField(child=serializers.CharField(), required=False)
    priorities = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Priority codes, e.g. P1."
    )
    root_causes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text='Root-cause categories, or "unclassified".'
    )
    include_drills = serializers.BooleanField(required=False)


class ReportParametersSerializer(StrictSerializer):
    range = serializers.ChoiceField(
        choices=ReportRange.choices, required=False, help_text="The period, relative to the run."
    )
    group_by = serializers.ChoiceField(choices=ReportGroupBy.choices, required=False)
    metrics = serializers.ListField(
        child=serializers.ChoiceField(choices=ReportMetric.choices),
        required=False,
        help_text="The sections to include; the type's defaults when left out.",
    )
    filters = ReportFiltersSerializer(required=False)


# --- Output ---------------------------------------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer):
    parameters = ReportParametersSerializer(read_only=True)
    recipients = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    schedule = serializers.SerializerMethodField()
    schedule_task = serializers.PrimaryKeyRelatedField(source="schedule", read_only=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "name",
            "type",
            "parameters",
            "recipients",
            "extra_recipients",
            "schedule",
            "schedule_task",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_schedule(self, report: Report) -> str:
        """The crontab (minute hour day-of-month month day-of-week), in TIME_ZONE."""
        return crontab_text(report.schedule)


class ReportRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportRun
        fields = [
            "id",
            "report",
            "period_start",
            "period_end",
            "status",
            "started_at",
            "finished_at",
            "recipients",
            "subject",
            "error",
            "attempts",
            "requested_by",
        ]
        read_only_fields = fields


class ReportPreviewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    html = serializers.CharField(help_text="The email's HTML with its charts as data: URIs.")
    text = serializers.CharField(help_text="The plain-text part.")
    csv = serializers.CharField(help_text="The CSV attachment.")
    csv_name = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()


# --- Input ----------------------------------------------------------------------------------------


class ReportInput(StrictSerializer):
    name = serializers.CharField(max_length=150)
    type = serializers.ChoiceField(choices=ReportType.choices)
    parameters = ReportParametersSerializer(required=False)
    recipients = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True), required=False, help_text="User ids."
    )
    extra_recipients = serializers.ListField(child=serializers.EmailField(), required=False)
    schedule = serializers.CharField(
        required=False, help_text='A crontab in TIME_ZONE, e.g. "0 7 1 * *" (the default).'
    )
    enabled = serializers.BooleanField(required=False)


class ReportUpdateInput(ReportInput):
    name = serializers.CharField(max_length=150, required=False)
    type = serializers.ChoiceField(choices=ReportType.choices, required=False)
