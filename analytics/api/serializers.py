"""The analytics API's shapes. Metrics answers are read-only, durations in seconds as floats. Report
input serializers check the shape; analytics.services.reports checks the rest (known services and
priorities, a valid crontab) and writes."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from analytics.models import (
    HourlyRate,
    Report,
    ReportGroupBy,
    ReportMetric,
    ReportRange,
    ReportRun,
    ReportType,
)
from analytics.services.reports import crontab_text
from common.api.serializers import StrictSerializer


class DurationStatsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Incidents that have this clock.")
    mean = serializers.FloatField(allow_null=True, help_text="Seconds.")
    median = serializers.FloatField(allow_null=True, help_text="Seconds (nearest rank).")
    p90 = serializers.FloatField(allow_null=True, help_text="Seconds (nearest rank).")


class CostStatsSerializer(serializers.Serializer):
    incidents = serializers.IntegerField(help_text="Incidents whose cost is computed.")
    total = serializers.FloatField(help_text="Sum of their costs, in `currency`.")
    mean = serializers.FloatField(allow_null=True, help_text="Per incident.")
    hours = serializers.FloatField(help_text="Person-hours: responders' and review meetings'.")
    currency = serializers.CharField()


class SummarySerializer(serializers.Serializer):
    incidents = serializers.IntegerField()
    per_day = serializers.FloatField()
    by_priority = serializers.DictField(
        child=serializers.IntegerField(), help_text="Incidents per priority code."
    )
    mttd_seconds = DurationStatsSerializer(help_text="Onset to detection.")
    mtta_seconds = DurationStatsSerializer(help_text="Detection to acknowledgement.")
    mttr_seconds = DurationStatsSerializer(help_text="Detection to resolution.")
    resolved = serializers.IntegerField()
    auto_resolved = serializers.IntegerField()
    auto_resolution_rate = serializers.FloatField(allow_null=True, help_text="Share of resolved incidents.")
    repeats = serializers.IntegerField()
    reopened = serializers.IntegerField()
    repeat_rate = serializers.FloatField(
        allow_null=True, help_text="Repeats or reopened, share of incidents."
    )
    sla_response_rate = serializers.FloatField(allow_null=True)
    sla_resolution_rate = serializers.FloatField(allow_null=True)
    cost = CostStatsSerializer(help_text="Cost impact (analytics.cost).")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Inclusive.")
    end = serializers.DateTimeField(help_text="Exclusive.")


class SummaryChangeSerializer(serializers.Serializer):
    """(current - previous) / previous; null when either is missing or the previous is zero."""

    incidents = serializers.FloatField(allow_null=True)
    per_day = serializers.FloatField(allow_null=True)
    mttd_mean = serializers.FloatField(allow_null=True)
    mtta_mean = serializers.FloatField(allow_null=True)
    mttr_mean = serializers.FloatField(allow_null=True)
    mttr_median = serializers.FloatField(allow_null=True)
    auto_resolution_rate = serializers.FloatField(allow_null=True)
    repeat_rate = serializers.FloatField(allow_null=True)
    sla_response_rate = serializers.FloatField(allow_null=True)
    sla_resolution_rate = serializers.FloatField(allow_null=True)
    cost_total = serializers.FloatField(allow_null=True)


class SummaryResponseSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    current = SummarySerializer()
    previous = SummarySerializer()
    change = SummaryChangeSerializer()


class SeriesPointSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="First day of the day, week (Monday) or month.")
    incidents = serializers.IntegerField()
    mttr_mean_seconds = serializers.FloatField(allow_null=True)
    cost = serializers.FloatField(help_text="Total cost impact of the period's incidents.")


class SeriesGroupSerializer(serializers.Serializer):
    group = serializers.CharField(allow_null=True, help_text="The group's key; null without group_by.")
    incidents = serializers.IntegerField(help_text="Total over the range.")
    cost = serializers.FloatField(help_text="Total cost impact over the range.")
    points = SeriesPointSerializer(many=True, help_text="One per period, zero-filled.")


class SeriesResponseSerializer(serializers.Serializer):
    period = PeriodSerializer()
    bucket = serializers.CharField()
    group_by = serializers.CharField(allow_null=True)
    periods = serializers.ListField(child=serializers.DateField(), help_text="Every period the range covers.")
    series = SeriesGroupSerializer(many=True)


class PeakTimesResponseSerializer(serializers.Serializer):
    period = PeriodSerializer()
    timezone = serializers.CharField(help_text="Hours and days are in this time zone.")
    days = serializers.ListField(child=serializers.CharField(), help_text="Row labels, Monday first.")
    grid = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="7 rows (Monday first) of 24 counts (hour 0 to 23) of detections.",
    )
    incidents = serializers.IntegerField()


class RecommendationSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="mttr_increasing, repeats_high, root_cause_dominant, action_unreliable."
    )
    message = serializers.CharField()
    details = serializers.DictField(help_text="The figures that triggered the rule.")


class RecommendationsResponseSerializer(serializers.Serializer):
    period = PeriodSerializer(help_text="The rules look at the 12 months up to its end.")
    recommendations = RecommendationSerializer(many=True)


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


class HourlyRateSerializer(serializers.ModelSerializer):
    rate = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        coerce_to_string=False,
        help_text="Per person-hour, in COST_CURRENCY.",
    )

    class Meta:
        model = HourlyRate
        fields = ("id", "team", "rate", "created_at", "updated_at")


class HourlyRateInput(StrictSerializer):
    """The shape only; analytics.services.cost.hourly_rate_save checks the values (a team named
    once, a rate from 0)."""

    team = serializers.CharField(max_length=100, help_text="A service's owner team, as written there.")
    rate = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        coerce_to_string=False,
        help_text="Per person-hour, in COST_CURRENCY; a JSON number.",
    )


class HourlyRateUpdateInput(HourlyRateInput):
    team = serializers.CharField(max_length=100, required=False)
    rate = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=False, required=False)


class ResponderHoursSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    name = serializers.CharField()
    hours = serializers.FloatField(help_text="From their first action or role to resolution, overlaps once.")


class IncidentCostSerializer(serializers.Serializer):
    incident = serializers.IntegerField()
    reference = serializers.CharField()
    responders = ResponderHoursSerializer(many=True)
    responder_hours = serializers.FloatField()
    meeting_at = serializers.DateTimeField(allow_null=True, help_text="The post-mortem review, if scheduled.")
    meeting_invitees = serializers.IntegerField()
    meeting_hours = serializers.FloatField(help_text="The review's length once per invitee.")
    hours = serializers.FloatField()
    team = serializers.CharField(allow_null=True, help_text="Whose rate applied; null for the default rate.")
    rate = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=False)
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    open = serializers.BooleanField(help_text="Still open: responder time is counted to computed_at.")
    computed_at = serializers.DateTimeField()
