"""Overrides: someone on call in place of the layers' person (or of one named person) for a while.
Responders add them (covering a shift is everyday work); `override_take_over` is "me, from now"."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.actor import Actor
from oncall.models import Override, Schedule
from oncall.selectors import schedule_shifts
from oncall.services._validation import Errors, clean_errors, merge, refuse_if


def _override_errors(override: Override, now: datetime) -> Errors:
    errors: Errors = {}
    if override.starts_at and override.ends_at:
        if override.ends_at <= override.starts_at:
            errors["ends_at"] = ["The override must end after it starts."]
        elif override.ends_at <= now:
            errors["ends_at"] = ["The override would be over already: it must end in the future."]
    if override.user_id is not None and not override.user.is_active:
        errors["user"] = [f"{override.user.get_username()} is deactivated and cannot be on call."]
    if override.replaces_id is not None and override.replaces_id == override.user_id:
        errors["replaces"] = ["A person cannot replace themselves."]
    if not (override.reason or "").strip():
        errors["reason"] = ["Say why (holiday cover, swap, ...): the schedule shows it."]
    # The span constraint duplicates the first check above in worse words.
    merge(
        errors,
        {
            k: v
            for k, v in clean_errors(override, exclude=["created_by"]).items()
            if k not in errors and k != "__all__"
        },
    )
    return errors


def override_create(
    *,
    by: Actor,
    schedule: Schedule,
    user: AbstractBaseUser,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    replaces: AbstractBaseUser | None = None,
) -> Override:
    by.require("oncall.add_override", "add overrides")
    override = Override(
        schedule=schedule,
        user=user,
        replaces=replaces,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip(),
        created_by=by.user,
    )
    refuse_if(_override_errors(override, timezone.now()))
    with transaction.atomic():
        override.save()
    return override


def override_update(
    *,
    by: Actor,
    override: Override,
    user: AbstractBaseUser,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    replaces: AbstractBaseUser | None = None,
) -> Override:
    by.require("oncall.change_override", "change overrides")
    changed = Override.objects.get(pk=override.pk)
    changed.user, changed.replaces = user, replaces
    changed.starts_at, changed.ends_at, changed.reason = starts_at, ends_at, (reason or "").strip()
    refuse_if(_override_errors(changed, timezone.now()))
    with transaction.atomic():
        changed.save()
    return changed


def override_delete(*, by: Actor, override: Override) -> None:
    by.require("oncall.delete_override", "delete overrides")
    with transaction.atomic():
        override.delete()


# How far ahead "the end of the current shift" is looked for: a shift longer than this is cut here.
TAKE_OVER_HORIZON = timedelta(days=31)


def override_take_over(*, schedule: Schedule, by: Actor, until: datetime | None = None) -> Override:
    """ "Me, from now": an override for the acting person from now until `until` or, by default, the
    end of the current final shift (back-to-back pieces of the same person's shift count as one)."""
    if by.user is None:
        raise ValidationError({"user": ["Only a person can take over a shift."]})
    now = timezone.now()
    shifts = schedule_shifts(schedule=schedule, start=now, end=now + TAKE_OVER_HORIZON).final
    current = next((shift for shift in shifts if shift.start <= now < shift.end), None)
    if current is not None and current.user_id == by.user.pk and until is None:
        raise ValidationError({"until": ["You are on call already: give an end to extend your shift."]})
    if until is None:
        if current is None:
            raise ValidationError({"until": ["Nobody is on call now: say until when you take over."]})
        until = current.end
        for shift in shifts:
            if shift.start == until and shift.user_id == current.user_id:
                until = shift.end
    if current is not None and current.user_id != by.user.pk:
        replaced = get_user_model().objects.filter(pk=current.user_id).first()
        reason = f"Taken over from {replaced.get_username() if replaced else 'nobody'}"
    else:
        reason = "Taken over"
    return override_create(
        by=by, schedule=schedule, user=by.user, starts_at=now, ends_at=until, reason=reason
    )
