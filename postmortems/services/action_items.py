"""Action items: agreed in a post-mortem, owned, tracked to done; and the daily digest that reminds
each owner of what is overdue or due soon."""

import logging
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from common.actor import Actor
from common.exceptions import TransitionNotAllowedError
from common.fsm import locked_transition, row_lock
from incidents.choices import EventKind
from incidents.services import timeline_event_record
from postmortems.choices import OPEN_ITEM_STATUSES, ActionItemStatus
from postmortems.models import ActionItem, Postmortem, ReminderDigest

logger = logging.getLogger(__name__)
ADD_PERMISSION = "postmortems.add_actionitem"
CHANGE_PERMISSION = "postmortems.change_actionitem"
ITEM_FIELDS = ("description", "kind", "owner", "due_date", "follow_up_action", "follow_up_url")


def _record(item: ActionItem, by: Actor, message: str) -> None:
    timeline_event_record(
        incident=item.postmortem.incident,
        kind=EventKind.POSTMORTEM,
        by=by,
        message=message,
        details={"postmortem": item.postmortem_id, "action_item": item.pk, "status": item.status},
    )


def _assign(item: ActionItem, data: dict[str, Any]) -> None:
    unknown = set(data) - set(ITEM_FIELDS)
    if unknown:
        raise ValidationError({field: ["Not an action item field."] for field in sorted(unknown)})
    for field, value in data.items():
        setattr(item, field, value.strip() if isinstance(value, str) else value)
    item.full_clean(exclude=["postmortem", "status"])  # status moves only by transition


def action_item_create(*, postmortem: Postmortem, by: Actor, data: dict[str, Any]) -> ActionItem:
    by.require(ADD_PERMISSION, "add action items")
    item = ActionItem(postmortem=postmortem)
    _assign(item, data)
    with transaction.atomic():
        item.save()
        _record(
            item,
            by,
            f"Action item added for {item.owner.get_username()}, due {item.due_date:%Y-%m-%d}: {item}",
        )
    return item


def action_item_update(*, item: ActionItem, by: Actor, data: dict[str, Any]) -> ActionItem:
    by.require(CHANGE_PERMISSION, "change action items")
    with transaction.atomic():
        locked = row_lock(instance=item, related=("postmortem__incident",))
        _assign(locked, data)
        locked.save()
    return locked


TRANSITIONS = {
    "start": ("start", "started"),
    "complete": ("complete", "done"),
    "drop": ("drop", "dropped (won't do)"),
    "reopen": ("reopen", "reopened"),
}


def _transition(*, item: ActionItem, by: Actor, name: str, reason: str = "") -> ActionItem:
    verb, done = TRANSITIONS[name]

    def stale(locked: ActionItem) -> str:
        return f"The action item changed meanwhile: it is now {locked.get_status_display().lower()}."

    def refused(locked: ActionItem) -> TransitionNotAllowedError:
        return TransitionNotAllowedError(
            f"Cannot {verb} an action item that is {locked.get_status_display().lower()}.",
            extra={"status": locked.status, "transition": name},
        )

    def apply(locked: ActionItem) -> None:
        locked.completed_at = (
            timezone.now() if locked.status in (ActionItemStatus.DONE, ActionItemStatus.WONT_DO) else None
        )
        locked.wont_do_reason = reason if name == "drop" else ""

    return locked_transition(
        instance=item,
        name=name,
        by=by,
        related=("postmortem__incident", "owner"),
        stale=stale,
        refused=refused,
        denied="change action items",
        apply=apply,
        record=lambda locked, from_status: _record(
            locked, by, f"Action item {done}: {locked}" + (f" ({reason})" if reason else "")
        ),
    )


def action_item_start(*, item: ActionItem, by: Actor) -> ActionItem:
    return _transition(item=item, by=by, name="start")


def action_item_complete(*, item: ActionItem, by: Actor) -> ActionItem:
    return _transition(item=item, by=by, name="complete")


def action_item_drop(*, item: ActionItem, by: Actor, reason: str) -> ActionItem:
    """Won't do, with the reason on record."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why this will not be done."]})
    return _transition(item=item, by=by, name="drop", reason=reason)


def action_item_reopen(*, item: ActionItem, by: Actor) -> ActionItem:
    return _transition(item=item, by=by, name="reopen")


def _digest_body(owner, overdue: list[ActionItem], due_soon: list[ActionItem], today: date) -> str:
    def line(item: ActionItem) -> str:
        url = settings.SITE_URL + reverse("admin:postmortems_actionitem_change", args=[item.pk])
        late = (today - item.due_date).days
        when = (
            f"{late} day{'s' if late != 1 else ''} overdue" if late > 0 else f"due {item.due_date:%a %d %b}"
        )
        return f"- {item.description} ({item.postmortem.incident.reference}; {when})\n  {url}"

    parts = [f"Hello {owner.get_full_name() or owner.get_username()},", ""]
    if overdue:
        parts += ["Overdue:", *[line(i) for i in overdue], ""]
    if due_soon:
        parts += ["Due soon:", *[line(i) for i in due_soon], ""]
    parts.append("Mark them done (or won't do, with a reason) in Mitigate when they are.")
    return "\n".join(parts) + "\n"


def action_item_reminders_send(*, today: date | None = None) -> int:
    """Email each owner one digest of their open items that are overdue or due within
    ACTION_ITEM_DUE_SOON_DAYS, at most once a day: the day's digest row is claimed before sending and
    marked sent after, so a second run that day (or a concurrent one) sends nothing, and a failed
    send is tried again on the next run. Returns how many digests were sent."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.ACTION_ITEM_DUE_SOON_DAYS)
    items = (
        ActionItem.objects.filter(status__in=OPEN_ITEM_STATUSES, due_date__lte=horizon)
        .exclude(owner__email="")
        .select_related("owner", "postmortem__incident")
        .order_by("due_date", "id")
    )
    by_owner: dict[int, list[ActionItem]] = defaultdict(list)
    for item in items:
        by_owner[item.owner_id].append(item)
    sent = 0
    for owner_id, owned in by_owner.items():
        try:
            sent += _digest_send(owner_id, owned, today)
        except Exception:
            logger.exception("Action item digest for user %s failed; the next run tries again", owner_id)
    return sent


def _digest_send(owner_id: int, items: list[ActionItem], today: date) -> bool:
    owner = items[0].owner
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReminderDigest.objects.create(owner_id=owner_id, day=today)
        except IntegrityError:
            pass  # Claimed already: sent, or a failed send to retry.
        digest = ReminderDigest.objects.select_for_update().get(owner_id=owner_id, day=today)
        if digest.sent_at is not None:
            return False
        overdue = [i for i in items if i.due_date < today]
        due_soon = [i for i in items if i.due_date >= today]
        EmailMessage(
            subject=f"Action items: {len(overdue)} overdue, {len(due_soon)} due soon",
            body=_digest_body(owner, overdue, due_soon, today),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[owner.email],
        ).send()
        digest.items = [i.pk for i in items]
        digest.sent_at = timezone.now()
        digest.save(update_fields=["items", "sent_at"])
    return True


__all__ = [
    "action_item_complete",
    "action_item_create",
    "action_item_drop",
    "action_item_reminders_send",
    "action_item_reopen",
    "action_item_start",
    "action_item_update",
]
