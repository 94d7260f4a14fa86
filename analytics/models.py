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
