"""Schedules and their layers: the writes the admin and the API share. Every check runs before
anything is written, so a refusal changes nothing."""

from typing import Any

from django.db import transaction

from common.actor import Actor
from oncall.models import Layer, LayerMember, Schedule
from oncall.services._validation import clean_errors, inactive_names, merge, refuse_if

SCHEDULE_FIELDS = ("name", "description", "time_zone", "team")
LAYER_FIELDS = (
    "name",
    "level",
    "rotation_unit",
    "rotation_length",
    "start_date",
    "handoff_time",
    "restrict_weekdays",
    "restrict_start_time",
    "restrict_end_time",
)


def _assign(instance: Any, allowed: tuple[str, ...], fields: dict[str, Any], function: str) -> None:
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(f"{function}() got an unexpected field {name!r}")
        setattr(instance, name, value)


def schedule_save(*, by: Actor, schedule: Schedule | None = None, **fields: Any) -> Schedule:
    """Create a schedule or change one (time zone checked against the IANA database)."""
    if schedule is None:
        by.require("oncall.add_schedule", "add schedules")
        schedule = Schedule()
    else:
        by.require("oncall.change_schedule", "change schedules")
        # A fresh copy: a refusal leaves the caller's instance as it was.
        schedule = Schedule.objects.get(pk=schedule.pk)
    _assign(schedule, SCHEDULE_FIELDS, fields, "schedule_save")
    schedule.name = (schedule.name or "").strip()
    refuse_if(clean_errors(schedule))
    with transaction.atomic():
        schedule.save()
    return schedule


def schedule_delete(*, by: Actor, schedule: Schedule) -> None:
    """Layers, overrides and feeds go with it; escalation steps that named it simply lose it (the
    policy's other targets still run)."""
    by.require("oncall.delete_schedule", "delete schedules")
    with transaction.atomic():
        schedule.delete()


def layer_save(
    *,
    by: Actor,
    schedule: Schedule,
    member_ids: list[int],
    layer: Layer | None = None,
    **fields: Any,
) -> Layer:
    """Create or change a layer with its members in turn order; the members given replace the
    current ones as a whole."""
    by.require("oncall.change_schedule", "change schedules")
    layer = Layer(schedule=schedule) if layer is None else Layer.objects.get(pk=layer.pk)
    _assign(layer, LAYER_FIELDS, fields, "layer_save")
    layer.name = (layer.name or "").strip()
    layer.restrict_weekdays = layer.restrict_weekdays or []
    errors = clean_errors(layer)
    if isinstance(layer.restrict_weekdays, list) and "restrict_weekdays" not in errors:
        layer.restrict_weekdays = sorted(set(layer.restrict_weekdays))
    member_ids = list(member_ids)
    if not member_ids:
        merge(errors, {"members": ["A layer needs at least one member."]})
    elif len(set(member_ids)) != len(member_ids):
        merge(errors, {"members": ["Each person takes one turn per rotation: remove the repeats."]})
    else:
        missing, inactive = inactive_names(member_ids)
        if missing:
            merge(errors, {"members": [f"No such user: {', '.join(map(str, missing))}."]})
        if inactive:
            merge(errors, {"members": [f"Deactivated, cannot be on call: {', '.join(inactive)}."]})
    refuse_if(errors)
    with transaction.atomic():
        layer.save()
        LayerMember.objects.filter(layer=layer).delete()
        LayerMember.objects.bulk_create(
            LayerMember(layer=layer, user_id=user_id, position=position)
            for position, user_id in enumerate(member_ids)
        )
    return layer


def layer_delete(*, by: Actor, layer: Layer) -> None:
    by.require("oncall.change_schedule", "change schedules")
    with transaction.atomic():
        layer.delete()
