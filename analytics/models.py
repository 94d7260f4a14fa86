"""Scheduled email reports: what a report shows and to whom (Report), when it goes out (a
django-celery-beat PeriodicTask, editable in the admin), and what each run sent (ReportRun)."""

from django.conf import settings
from django.db import models
from django_celery_beat.models import PeriodicTask

from common.models import BaseModel


class ReportType(models.TextChoices):
    TREND_ANALYSIS = "trend_analysis", "Trend analysis"
    INCIDENT_SUMMARY = "incident_summary", "Incident summary"
    SERVICE_PERFORMANCE = "service_performance", "Service performance"
    TEAM_METRICS = "team_metrics", "Team metrics"


class ReportRange(models.TextChoices):
    """The period a run covers, relative to when it runs, in whole local days (TIME_ZONE)."""

    PREVIOUS_MONTH = "previous_month", "Previous calendar month"
    PREVIOUS_WEEK = "previous_week", "Previous week (Monday to Sunday)"
    LAST_7_DAYS = "last_7_days", "Last 7 days"
    LAST_30_DAYS = "last_30_days", "Last 30 days"
    LAST_90_DAYS = "last_90_days", "Last 90 days"


class ReportGroupBy(models.TextChoices):
    PRIORITY = "priority", "Priority"
    SERVICE_TYPE = "service_type", "Service type"
    ROOT_CAUSE = "root_cause", "Root cause"
    TEAM = "team", "Team"
    MONTH = "month", "Month"


class ReportMetric(models.TextChoices):
    """The sections a report can include."""

    SUMMARY = "summary", "Headline numbers with change"
    BY_PRIORITY = "by_priority", "Incidents by priority"
    GROUPED = "grouped", "Grouped table"
    TRENDS = "trends", "Monthly trend (12 months)"
    ROOT_CAUSES = "root_causes", "Top root causes"
    ACTION_ITEMS = "action_items", "Post-mortem and action item status"
    AUTOMATION = "automation", "Automation effectiveness"
    RECOMMENDATIONS = "recommendations", "Recommendations"
    COST = "cost", "Cost impact (person-hours and cost, by group)"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Report(BaseModel):
    """A report definition: its type, parameters (period relative to the run, group-by, sections,
    filters), recipients and schedule. Written only through analytics.services.reports, which keeps
    the PeriodicTask (and its enabled flag) in step with the report."""

    name = models.CharField(max_length=150, unique=True)
    type = models.CharField(max_length=30, choices=ReportType.choices, default=ReportType.INCIDENT_SUMMARY)
    # {"range", "group_by", "metrics", "filters": {...}}; normalised by services.reports.report_parameters.
    parameters = models.JSONField(default=dict, blank=True)
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="analytics_reports"
    )
    extra_recipients = models.JSONField(
        default=list, blank=True, help_text="Addresses that get the report besides the users."
    )
    schedule = models.OneToOneField(
        PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="analytics_report"
    )
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReportRun(BaseModel):
    """One send of a report for one period. The unique period is what makes a repeated task, a
    retry after success or a second "send now" send nothing."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="runs")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-period_start", "-id"]
        indexes = [models.Index(fields=["report", "-period_start"], name="analytics_reportrun_period")]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "period_start", "period_end"],
                name="%(app_label)s_%(class)s_once_per_period",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="%(app_label)s_%(class)s_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.period_start:%Y-%m-%d}..{self.period_end:%Y-%m-%d}"


class HourlyRate(BaseModel):
    """What an hour of a team's response costs (teams are incidents.Service.owner_team). Written
    only through analytics.services.cost, which reprices the team's incidents afterwards."""

    team = models.CharField(
        max_length=100, unique=True, help_text="A service's owner team, as written there."
    )
    rate = models.DecimalField(
        max_digits=10, decimal_places=2, help_text="Per person-hour, in COST_CURRENCY."
    )

    class Meta:
        ordering = ["team"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate__gte=0), name="%(app_label)s_%(class)s_rate_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team}: {self.rate}/h"


class IncidentCost(models.Model):
    """An incident's cost as analytics.cost computes it from the record, stored so analytics sums
    and averages a column. Kept current by analytics.services.cost (after a resolution, dismissal
    or reopen, after a rate change, and by a beat sweep of open incidents and changed review
    meetings); `rebuild_incident_costs` recomputes all."""

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, primary_key=True, related_name="cost"
    )
    responders = models.PositiveIntegerField(default=0)
    responder_seconds = models.PositiveBigIntegerField(default=0)
    meeting_seconds = models.PositiveBigIntegerField(default=0)
    # The team whose rate applied; blank when the default rate did.
    team = models.CharField(max_length=100, blank=True, db_index=True)
    rate = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    # Still open when computed: the responder time ran to `computed_at`.
    open = models.BooleanField(default=False, db_index=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-computed_at"]

    def __str__(self) -> str:
        return f"Cost of incident {self.incident_id}: {self.amount}"

    @property
    def hours(self) -> float:
        return (self.responder_seconds + self.meeting_seconds) / 3600


class CostGroupKind(models.TextChoices):
    TEAM = "team", "Team"
    SERVICE_TYPE = "service_type", "Service type"


class IncidentCostGroup(models.Model):
    """A team or service type an incident's cost counts under in analytics: one row per distinct
    owner team and type of its services, written with its cost, so grouping by team sums each
    incident once per team however many of its services the team owns."""

    cost = models.ForeignKey(IncidentCost, on_delete=models.CASCADE, related_name="groups")
    kind = models.CharField(max_length=20, choices=CostGroupKind.choices)
    key = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["cost", "kind", "key"]
        indexes = [models.Index(fields=["kind", "cost"], name="analytics_costgroup_kind")]
        constraints = [
            models.UniqueConstraint(fields=["cost", "kind", "key"], name="%(app_label)s_%(class)s_once")
        ]

    def __str__(self) -> str:
        return f"{self.cost_id} {self.kind}={self.key}"


class RollupSegment(models.Model):
    """A combination of what analytics filters and groups by that is fixed per incident: priority,
    root cause, drill or not, and the exact set of services (`services_key`, sorted ids joined by
    commas). The rollups are keyed by day and segment, so a filter selects segments and counts each
    incident once, as analytics.filters.incidents_in does."""

    priority = models.ForeignKey("incidents.Priority", on_delete=models.CASCADE, related_name="+")
    root_cause_category = models.CharField(max_length=30, blank=True)
    is_drill = models.BooleanField(default=False)
    services_key = models.CharField(max_length=1000, blank=True)
    services = models.ManyToManyField("incidents.Service", related_name="+", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "root_cause_category", "is_drill", "services_key"],
                name="%(app_label)s_%(class)s_once",
            )
        ]

    def __str__(self) -> str:
        return f"segment {self.pk}"


class RollupSegmentGroup(models.Model):
    """A service type or owner team a segment's incidents count under when grouped by it, and how
    many of the segment's services have it (`mult`): grouped by these, an incident counts once per
    group while a mean weighs it once per service, as the direct query's join does. A segment
    without services has one row per kind with key NULL."""

    segment = models.ForeignKey(RollupSegment, on_delete=models.CASCADE, related_name="groups")
    kind = models.CharField(max_length=20)  # "service_type" or "team"
    key = models.CharField(max_length=100, null=True, blank=True)
    mult = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "kind", "key"], name="%(app_label)s_%(class)s_once")
        ]

    def __str__(self) -> str:
        return f"segment {self.segment_id} {self.kind}={self.key} x{self.mult}"


class IncidentRollupMember(models.Model):
    """Where one incident counts in the rollups and what it adds there: analytics.rollups.facts
    computes these from the incident; a change subtracts the old row's contribution and adds the
    new one. No foreign key constraint, so a deleted incident's row stays until refreshed."""

    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    segment = models.ForeignKey(RollupSegment, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()  # detected_at's date in TIME_ZONE
    hour = models.PositiveSmallIntegerField()
    detected_at = models.DateTimeField(db_index=True)
    is_drill = models.BooleanField(default=False)
    resolved = models.BooleanField(default=False)
    auto_resolved = models.BooleanField(default=False)
    repeat = models.BooleanField(default=False)
    reopened = models.BooleanField(default=False)
    repeated = models.BooleanField(default=False)
    response_settled = models.BooleanField(default=False)
    response_met = models.BooleanField(default=False)
    resolution_settled = models.BooleanField(default=False)
    resolution_met = models.BooleanField(default=False)
    mttd_us = models.BigIntegerField(null=True)
    mtta_us = models.BigIntegerField(null=True)
    mttr_us = models.BigIntegerField(null=True)
    mttd_b = models.IntegerField(null=True)
    mtta_b = models.IntegerField(null=True)
    mttr_b = models.IntegerField(null=True)
    cost = models.BooleanField(default=False)
    cost_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    cost_seconds = models.BigIntegerField(null=True)
    # [kind, key] of its analytics.IncidentCostGroup rows, sorted: where its cost counts by team or type.
    cost_groups = models.JSONField(default=list)

    class Meta:
        indexes = [
            # The percentile's last step: the k-th value within one histogram bucket.
            models.Index(
                fields=["mttd_b", "mttd_us", "detected_at", "is_drill"], name="analytics_member_mttd"
            ),
            models.Index(
                fields=["mtta_b", "mtta_us", "detected_at", "is_drill"], name="analytics_member_mtta"
            ),
            models.Index(
                fields=["mttr_b", "mttr_us", "detected_at", "is_drill"], name="analytics_member_mttr"
            ),
        ]

    def __str__(self) -> str:
        return f"incident {self.incident_id} on {self.day}"


class IncidentDayRollup(models.Model):
    """Counts and sums per day (TIME_ZONE) and segment, the sums of IncidentRollupMember's columns.
    Clock sums are kept as whole days and the remaining microseconds, so the mean can be derived
    exactly as PostgreSQL's avg(interval) does."""

    day = models.DateField()
    segment = models.ForeignKey(RollupSegment, on_delete=models.PROTECT, related_name="+")
    incidents = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    auto_resolved = models.IntegerField(default=0)
    repeats = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    repeated = models.IntegerField(default=0)
    response_settled = models.IntegerField(default=0)
    response_met = models.IntegerField(default=0)
    resolution_settled = models.IntegerField(default=0)
    resolution_met = models.IntegerField(default=0)
    mttd_n = models.IntegerField(default=0)
    mttd_days = models.BigIntegerField(default=0)
    mttd_us = models.BigIntegerField(default=0)
    mtta_n = models.IntegerField(default=0)
    mtta_days = models.BigIntegerField(default=0)
    mtta_us = models.BigIntegerField(default=0)
    mttr_n = models.IntegerField(default=0)
    mttr_days = models.BigIntegerField(default=0)
    mttr_us = models.BigIntegerField(default=0)
    cost_incidents = models.IntegerField(default=0)
    cost_total = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    cost_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "segment"], name="%(app_label)s_%(class)s_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} segment {self.segment_id}"


class CostGroupDayRollup(models.Model):
    """Cost per day, segment and analytics.IncidentCostGroup (team or service type): what the
    series by team or type show as cost, each incident once per group (sums of the members'
    cost over their `cost_groups`)."""

    day = models.DateField()
    segment = models.ForeignKey(RollupSegment, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=100, blank=True)
    cost_incidents = models.IntegerField(default=0)
    cost_total = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    cost_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "segment", "kind", "key"], name="%(app_label)s_%(class)s_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} segment {self.segment_id} {self.kind}={self.key}"


class ClockDayHistogram(models.Model):
    """How many incidents of a day (drills apart) have a clock value in each bucket
    (analytics.rollups.facts.bucket: exact integer edges), to find a percentile's bucket without
    reading the incidents; the value itself comes from IncidentRollupMember's index."""

    day = models.DateField()
    is_drill = models.BooleanField(default=False)
    clock = models.CharField(max_length=4)
    bucket = models.IntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "is_drill", "clock", "bucket"], name="%(app_label)s_%(class)s_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.clock} bucket {self.bucket}: {self.n}"


class IncidentHourRollup(models.Model):
    """Incidents per day and hour (TIME_ZONE), drills apart, for the peak-times grid."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    is_drill = models.BooleanField(default=False)
    incidents = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "hour", "is_drill"], name="%(app_label)s_%(class)s_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hour}h: {self.incidents}"


class RollupState(models.Model):
    """One row once the rollups were built, with the TIME_ZONE their days are in: the selectors read
    the rollups only when it exists and matches (otherwise they query the incidents directly)."""

    time_zone = models.CharField(max_length=64)
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"rollups built {self.built_at} in {self.time_zone}"
