import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from common.models import BaseModel
from oncall.choices import RotationUnit


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin).") from error


class Schedule(BaseModel):
    """Who is on call, in layers (rotations) and overrides, in one time zone.

    Handoffs and restrictions are local wall-clock times in `time_zone`: a 09:00 handoff stays 09:00
    across a DST change. Higher layers win where they overlap; overrides win over every layer."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    team = models.CharField(max_length=100, blank=True, help_text="The owning team (as on services).")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Layer(BaseModel):
    """A rotation: members take turns of `rotation_length` units, handing off at `handoff_time`
    (local) from `start_date`. Restrictions keep the layer to some weekdays and hours; outside them
    the layers below show through."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100)
    level = models.PositiveSmallIntegerField(default=1, help_text="Higher levels win where layers overlap.")
    rotation_unit = models.CharField(max_length=10, choices=RotationUnit.choices, default=RotationUnit.WEEKS)
    rotation_length = models.PositiveSmallIntegerField(
        default=1, help_text="How many units one member's turn lasts."
    )
    start_date = models.DateField(help_text="The first turn (the first member's) starts on this date.")
    handoff_time = models.TimeField(help_text="Local time of each handoff (and of the first turn's start).")
    restrict_weekdays = models.JSONField(
        default=list,
        blank=True,
        help_text="Weekdays (0 = Monday ... 6 = Sunday) the layer covers; empty: every day.",
    )
    restrict_start_time = models.TimeField(
        null=True, blank=True, help_text="Daily window start (local); empty: all day."
    )
    restrict_end_time = models.TimeField(
        null=True, blank=True, help_text="Daily window end (local); before the start: runs past midnight."
    )

    class Meta:
        ordering = ["schedule_id", "-level", "id"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "level"], name="%(app_label)s_%(class)s_level"),
            models.CheckConstraint(
                condition=models.Q(rotation_length__gte=1), name="%(app_label)s_%(class)s_length"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name}"

    def clean(self) -> None:
        weekdays = self.restrict_weekdays or []
        if not isinstance(weekdays, list) or any(
            not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6 for day in weekdays
        ):
            raise ValidationError(
                {"restrict_weekdays": "A list of weekday numbers, 0 (Monday) to 6 (Sunday)."}
            )
        if (self.restrict_start_time is None) != (self.restrict_end_time is None):
            raise ValidationError({"restrict_end_time": "Give both ends of the daily window, or neither."})
        if self.restrict_start_time is not None and self.restrict_start_time == self.restrict_end_time:
            raise ValidationError({"restrict_end_time": "The daily window is empty (start equals end)."})


class LayerMember(models.Model):
    """One turn-taker of a layer, in order."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_turns")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["layer_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "position"], name="%(app_label)s_%(class)s_position"),
        ]

    def __str__(self) -> str:
        return f"{self.layer} #{self.position}: {self.user}"


class Override(BaseModel):
    """`user` is on call from `starts_at` to `ends_at`, in place of whoever the layers name (or only
    in place of `replaces`, when set: a swap with one person)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_overrides"
    )
    replaces = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="oncall_overridden",
        help_text="Empty: the override covers whoever is on call.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["schedule_id", "starts_at", "id"]
        indexes = [models.Index(fields=["schedule", "ends_at", "starts_at"], name="oncall_override_span")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="%(app_label)s_%(class)s_span"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.user} on {self.schedule} {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"
        )
