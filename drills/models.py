"""Drills: a library of scenarios (DrillScenario), each exercise of one (DrillRun, with the incident
it opened), the report written after it (DrillReport), and crontab schedules (DrillSchedule, a
django-celery-beat PeriodicTask like analytics.Report's). Written only through drills.services."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django_celery_beat.models import PeriodicTask
from django_fsm import FSMField, transition

from actions.parameters import parameters_validate
from common.models import BaseModel
from drills.choices import DrillStatus, ScenarioKind, StartMode


class DrillScenario(BaseModel):
    """What a drill simulates and how it starts: a synthetic alert posted through a drill source
    (the real webhook path, so rules, grouping and responses are exercised too), or an incident
    opened directly. The optional injection and cleanup actions are ordinary actions: run through
    the action-run service, so high-risk ones wait for approval like any run."""

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=30, choices=ScenarioKind.choices, default=ScenarioKind.CUSTOM)
    description = models.TextField(blank=True)
    simulated = models.TextField("What is simulated", blank=True)
    expected_response = models.TextField(blank=True)
    start_mode = models.CharField(max_length=20, choices=StartMode.choices, default=StartMode.DIRECT)
    source = models.ForeignKey(
        "alerts.AlertSource",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drill_scenarios",
        limit_choices_to={"is_drill": True},
        help_text="The drill source the synthetic alert is posted through.",
    )
    alert_labels = models.JSONField(
        default=dict,
        blank=True,
        help_text='The synthetic alert\'s labels, e.g. {"alertname": "PgPoolExhausted"}.',
    )
    alert_annotations = models.JSONField(default=dict, blank=True, help_text="Summary, description, ...")
    priority = models.ForeignKey(
        "incidents.Priority",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drill_scenarios",
        help_text="The incident's priority when it is opened directly.",
    )
    services = models.ManyToManyField("incidents.Service", blank=True, related_name="drill_scenarios")
    injection_action = models.ForeignKey(
        "actions.Action",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drill_injections",
        help_text="Run when the drill starts, to cause the symptom.",
    )
    injection_parameters = models.JSONField(
        default=dict, blank=True, help_text='The injection action\'s parameters, e.g. {"host": "db-1"}.'
    )
    cleanup_action = models.ForeignKey(
        "actions.Action",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drill_cleanups",
        help_text="Run once when the drill ends, completed or cancelled.",
    )
    cleanup_parameters = models.JSONField(
        default=dict, blank=True, help_text="The cleanup action's parameters."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.start_mode == StartMode.SYNTHETIC_ALERT:
            if self.source_id is None:
                errors["source"] = ["A synthetic alert needs a drill source to be posted through."]
            elif not self.source.is_drill:
                errors["source"] = ["Only a drill source: its incidents are drills, kept out of metrics."]
            if not isinstance(self.alert_labels, dict) or not self.alert_labels.get("alertname"):
                errors["alert_labels"] = ['The synthetic alert needs labels with an "alertname".']
        elif self.priority_id is None:
            errors["priority"] = ["An incident opened directly needs a priority."]
        for name in ("alert_labels", "alert_annotations"):
            value = getattr(self, name)
            if name not in errors and (
                not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
            ):
                errors[name] = ["An object of text values."]
        for role in ("injection", "cleanup"):
            action, values = getattr(self, f"{role}_action"), getattr(self, f"{role}_parameters")
            if action is None:
                continue
            try:
                parameters_validate(action.parameters, values)
            except ValidationError as exc:
                errors[f"{role}_parameters"] = [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]
        if errors:
            raise ValidationError(errors)


class DrillSchedule(BaseModel):
    """Runs a scenario on a crontab (in TIME_ZONE) with its participants, who are notified when the
    drill starts. The PeriodicTask is kept in step by drills.services.schedules."""

    name = models.CharField(max_length=150, unique=True)
    scenario = models.ForeignKey(DrillScenario, on_delete=models.CASCADE, related_name="schedules")
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="drill_schedules"
    )
    periodic_task = models.OneToOneField(
        PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="drill_schedule"
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DrillRun(BaseModel):
    """One exercise of a scenario: running until its incident resolves (or it is cancelled). The
    synthetic alert is kept: its incident is opened by alert processing, after the start."""

    scenario = models.ForeignKey(DrillScenario, on_delete=models.PROTECT, related_name="runs")
    status = FSMField(
        max_length=20, choices=DrillStatus.choices, default=DrillStatus.RUNNING, protected=True, db_index=True
    )
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="drill_runs"
    )
    alert = models.ForeignKey(
        "alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="drill_runs"
    )
    schedule = models.ForeignKey(
        DrillSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="drill_runs")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.TextField(blank=True)
    injection_run = models.ForeignKey(
        "actions.ActionRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cleanup_run = models.ForeignKey(
        "actions.ActionRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set once, under the run's lock, when cleanup was requested (or refused): never twice.
    cleanup_requested_at = models.DateTimeField(null=True, blank=True)
    notes = models.JSONField(default=list, blank=True, help_text="What happened besides the status.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["-started_at", "-id"], name="drills_run_recent")]

    def __str__(self) -> str:
        return f"Drill #{self.pk}: {self.scenario}"

    @transition(field=status, source=DrillStatus.RUNNING, target=DrillStatus.COMPLETED)
    def complete(self) -> None:
        pass

    @transition(field=status, source=DrillStatus.RUNNING, target=DrillStatus.CANCELLED)
    def cancel(self) -> None:
        pass


class DrillReport(BaseModel):
    """Written when a run ends: the timings and responders come from the record (drills.selectors);
    observations, score and areas for improvement from the people who ran it."""

    run = models.OneToOneField(DrillRun, on_delete=models.CASCADE, related_name="report")
    observations = models.TextField(blank=True)
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)], help_text="Out of 10."
    )
    improvements = models.TextField("Areas for improvement", blank=True)

    class Meta:
        ordering = ["-run__started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__lte=10),
                name="%(app_label)s_%(class)s_score_range",
            )
        ]

    def __str__(self) -> str:
        return f"Report of {self.run}"
