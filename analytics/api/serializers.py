"""The shapes of the analytics API's answers (read-only; durations in seconds as floats)."""

from rest_framework import serializers


class DurationStatsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Incidents that have this clock.")
    mean = serializers.FloatField(allow_null=True, help_text="Seconds.")
    median = serializers.FloatField(allow_null=True, help_text="Seconds (nearest rank).")
    p90 = serializers.FloatField(allow_null=True, help_text="Seconds (nearest rank).")


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


class SeriesGroupSerializer(serializers.Serializer):
    group = serializers.CharField(allow_null=True, help_text="The group's key; null without group_by.")
    incidents = serializers.IntegerField(help_text="Total over the range.")
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
